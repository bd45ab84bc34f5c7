#pragma once
// A thin writer over ONNX's own GraphProto (Debian's libonnx-dev): nodes, attributes and
// initializers with unique names, so the layer rows of the exporter say only what they emit.
#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace onnx {
class GraphProto;
}

namespace mnistnet::onnx_export {

// One node attribute: an integer, a float, a list of integers or a string.
struct Attr {
  std::string name;
  std::variant<int64_t, float, std::vector<int64_t>, std::string> value;
};

class OnnxGraph {
 public:
  explicit OnnxGraph(onnx::GraphProto& graph) : graph_(graph) {}

  // A fresh tensor name "<base>" or "<base>_2", "<base>_3" ... never used before.
  std::string unique_name(const std::string& base);

  // Adds a node; `base` names its output (made unique), which is returned.
  std::string node(const std::string& op, const std::vector<std::string>& inputs,
                   const std::string& base, std::initializer_list<Attr> attrs = {});

  // Float initializers [dims] (row-major), stored as raw little-endian bytes.
  std::string floats(const std::string& base, const std::vector<int64_t>& dims,
                     const std::vector<float>& values);
  std::string floats(const std::string& base, const std::vector<int64_t>& dims,
                     const float* values);
  // The op type of the node that makes `tensor`; empty for the graph input and initializers.
  std::string producer(const std::string& tensor) const;
  // An int64 vector initializer (Reshape's shape, Pad's pads).
  std::string int64s(const std::string& base, const std::vector<int64_t>& values);

 private:
  onnx::GraphProto& graph_;
  std::set<std::string> used_;
};

}  // namespace mnistnet::onnx_export
