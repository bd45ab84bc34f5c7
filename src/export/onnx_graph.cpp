#include "export/onnx_graph.h"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <type_traits>

namespace mnistnet::onnx_export {

std::string OnnxGraph::unique_name(const std::string& base) {
  std::string name = base;
  for (int n = 2; !used_.insert(name).second; ++n) name = base + "_" + std::to_string(n);
  return name;
}

std::string OnnxGraph::node(const std::string& op, const std::vector<std::string>& inputs,
                            const std::string& base, std::initializer_list<Attr> attrs) {
  const std::string output = unique_name(base);
  onnx::NodeProto* n = graph_.add_node();
  n->set_op_type(op);
  n->set_name(output);
  for (const std::string& in : inputs) n->add_input(in);
  n->add_output(output);
  for (const Attr& a : attrs) {
    onnx::AttributeProto* attr = n->add_attribute();
    attr->set_name(a.name);
    std::visit(
        [attr](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, int64_t>) {
            attr->set_type(onnx::AttributeProto::INT);
            attr->set_i(v);
          } else if constexpr (std::is_same_v<T, float>) {
            attr->set_type(onnx::AttributeProto::FLOAT);
            attr->set_f(v);
          } else if constexpr (std::is_same_v<T, std::string>) {
            attr->set_type(onnx::AttributeProto::STRING);
            attr->set_s(v);
          } else {
            attr->set_type(onnx::AttributeProto::INTS);
            for (int64_t i : v) attr->add_ints(i);
          }
        },
        a.value);
  }
  return output;
}

std::string OnnxGraph::floats(const std::string& base, const std::vector<int64_t>& dims,
                              const float* values) {
  const std::string name = unique_name(base);
  onnx::TensorProto* t = graph_.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  int64_t count = 1;
  for (int64_t d : dims) {
    t->add_dims(d);
    count *= d;
  }
  // raw_data is little-endian float32, which is this machine's own layout (x86-64, aarch64).
  std::string bytes(static_cast<size_t>(count) * sizeof(float), '\0');
  if (count > 0) std::memcpy(bytes.data(), values, bytes.size());
  t->set_raw_data(std::move(bytes));
  return name;
}

std::string OnnxGraph::floats(const std::string& base, const std::vector<int64_t>& dims,
                              const std::vector<float>& values) {
  return floats(base, dims, values.data());
}

std::string OnnxGraph::producer(const std::string& tensor) const {
  for (const onnx::NodeProto& n : graph_.node())
    if (n.output_size() > 0 && n.output(0) == tensor) return n.op_type();
  return "";
}

std::string OnnxGraph::int64s(const std::string& base, const std::vector<int64_t>& values) {
  const std::string name = unique_name(base);
  onnx::TensorProto* t = graph_.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  t->add_dims(static_cast<int64_t>(values.size()));
  for (int64_t v : values) t->add_int64_data(v);
  return name;
}

}  // namespace mnistnet::onnx_export
