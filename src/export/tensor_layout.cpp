#include "export/tensor_layout.h"

#include <stdexcept>

namespace mnistnet::onnx_export {
namespace {

// Channels-first and channels-last hold the same element order when either side is 1.
bool order_free(const Shape& image) { return image[2] == 1 || image[0] * image[1] == 1; }

Value reshaped(OnnxGraph& g, const Value& v, const std::vector<int64_t>& dims, Value out) {
  const std::string& source = v.reshaped_from.empty() ? v.name : v.reshaped_from;
  const std::vector<int64_t>& source_dims =
      v.reshaped_from.empty() ? onnx_dims(v) : v.reshaped_from_dims;
  if (dims == source_dims) {
    out.name = source;
    return out;
  }
  out.name = g.node("Reshape", {source, g.int64s("shape", dims)}, v.name + "_reshaped");
  out.reshaped_from = source;
  out.reshaped_from_dims = source_dims;
  return out;
}

Value with_layout(const Value& v, Shape shape, Layout layout) {
  Value out;
  out.shape = std::move(shape);
  out.layout = layout;
  (void)v;
  return out;
}

}  // namespace

std::vector<int64_t> onnx_dims(const Value& v) {
  std::vector<int64_t> dims{-1};
  if (v.layout == Layout::channels_first) {
    dims.insert(dims.end(), {v.shape[2], v.shape[0], v.shape[1]});
  } else {
    dims.insert(dims.end(), v.shape.begin(), v.shape.end());
  }
  return dims;
}

std::vector<int64_t> channels_first_order(const Shape& image) {
  const int64_t h = image[0], w = image[1], c = image[2];
  std::vector<int64_t> order(static_cast<size_t>(h * w * c));
  for (int64_t ci = 0; ci < c; ++ci)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        order[static_cast<size_t>((ci * h + y) * w + x)] = (y * w + x) * c + ci;
  return order;
}

Value to_keras(OnnxGraph& g, const Value& v) {
  if (v.layout == Layout::keras) return v;
  if (v.layout == Layout::flat_channels_first) {
    Value image = with_layout(v, v.image, Layout::channels_first);
    image = reshaped(g, v, onnx_dims(image), image);
    return flatten(g, to_keras(g, image));
  }
  Value out = with_layout(v, v.shape, Layout::keras);
  if (order_free(v.shape)) return reshaped(g, v, onnx_dims(out), out);
  out.name =
      g.node("Transpose", {v.name}, v.name + "_nhwc", {{"perm", std::vector<int64_t>{0, 2, 3, 1}}});
  return out;
}

Value to_channels_first(OnnxGraph& g, const Value& v) {
  if (v.layout == Layout::channels_first) return v;
  if (v.shape.size() != 3) throw std::logic_error("to_channels_first: not an image");
  const Value keras = to_keras(g, v);
  Value out = with_layout(keras, keras.shape, Layout::channels_first);
  if (order_free(keras.shape)) return reshaped(g, keras, onnx_dims(out), out);
  out.name = g.node("Transpose", {keras.name}, keras.name + "_nchw",
                    {{"perm", std::vector<int64_t>{0, 3, 1, 2}}});
  return out;
}

Value flatten(OnnxGraph& g, const Value& v) {
  const Shape flat{element_count(v.shape)};
  if (v.layout == Layout::channels_first && !order_free(v.shape)) {
    Value out = with_layout(v, flat, Layout::flat_channels_first);
    out.image = v.shape;
    return reshaped(g, v, onnx_dims(out), out);
  }
  if (v.layout == Layout::flat_channels_first) return v;
  return reshaped(g, v, {-1, flat[0]}, with_layout(v, flat, Layout::keras));
}

Value reshape_keras(OnnxGraph& g, const Value& v, const Shape& shape) {
  const Value keras = to_keras(g, v);
  Value out = with_layout(keras, shape, Layout::keras);
  return reshaped(g, keras, onnx_dims(out), out);
}

}  // namespace mnistnet::onnx_export
