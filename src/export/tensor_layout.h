#pragma once
// Where one exported tensor's elements are. mnistnet keeps images channels-last (Keras's NHWC)
// while ONNX's Conv and pooling work channels-first (NCHW), so every tensor of the exported graph
// records its layout and a layer row asks for the layout it needs: a Transpose is inserted only
// where the element order really changes (not for one channel or a 1x1 image, where a free
// Reshape does), and Flatten of a channels-first image hands the following Dense a
// channels-first vector whose kernel rows the row permutes, instead of transposing the data.
#include <cstdint>
#include <string>
#include <vector>

#include "core/shape.h"
#include "export/onnx_graph.h"

namespace mnistnet::onnx_export {

enum class Layout {
  keras,                // ONNX dims [N] + shape, elements in mnistnet's (Keras's) order
  channels_first,       // shape {H, W, C}; ONNX dims [N, C, H, W]
  flat_channels_first,  // shape {H * W * C}; elements in (C, H, W) order of `image`
};

struct Value {
  std::string name;  // the ONNX tensor
  Shape shape;       // per example, in Keras's terms (as mnistnet's summary shows it)
  Layout layout = Layout::keras;
  Shape image;  // flat_channels_first: the {H, W, C} it was flattened from
  // A Reshape's input, so that a chain of Reshapes starts from the first tensor (and one that
  // comes back to that tensor's dims costs no node at all).
  std::string reshaped_from;
  std::vector<int64_t> reshaped_from_dims;
};

// The ONNX dims of v with the batch as -1 (Reshape's "infer this one").
std::vector<int64_t> onnx_dims(const Value& v);

// v with its elements in Keras's order (Layout::keras).
Value to_keras(OnnxGraph& g, const Value& v);
// An image v {H, W, C} as [N, C, H, W].
Value to_channels_first(OnnxGraph& g, const Value& v);
// [N, ...] -> [N, elements]: channels-first images become flat_channels_first (no Transpose).
Value flatten(OnnxGraph& g, const Value& v);
// v (any layout) reshaped to the Keras shape `shape`, in Keras's element order.
Value reshape_keras(OnnxGraph& g, const Value& v, const Shape& shape);

// For flat_channels_first: entry k (channels-first position) holds the Keras position of the
// same element, so row k of a permuted Dense kernel is row order[k] of the Keras kernel.
std::vector<int64_t> channels_first_order(const Shape& image);

}  // namespace mnistnet::onnx_export
