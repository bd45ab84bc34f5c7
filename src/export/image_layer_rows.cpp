// The rows of layers that see images, exported channels-first (ONNX's Conv and pooling layout):
// the convolutions, the poolings, padding and cropping, BatchNormalization. TensorFlow's "same"
// padding becomes explicit pads, the odd extra row and column at the end (bottom, right), as
// same_padding.h computes them.
#include <cmath>

#include "export/layer_export.h"
#include "layers/padding_sides.h"
#include "layers/same_padding.h"

namespace mnistnet::onnx_export {
namespace {

Value image_input(LayerExport& e) {
  const Value& x = e.inputs[0];
  if (x.shape.size() != 3)
    e.fail("expected an image input {H, W, C}, got " + shape_string(x.shape));
  return to_channels_first(e.graph, x);
}

// ONNX's pads [top, left, bottom, right] for a window on an {H, W, C} image.
std::vector<int64_t> pads(const Shape& image, const std::vector<int64_t>& window,
                          const std::vector<int64_t>& strides, bool same) {
  if (!same) return {0, 0, 0, 0};
  const Padding1D h = same_padding(image[0], window[0], strides[0]);
  const Padding1D w = same_padding(image[1], window[1], strides[1]);
  return {h.before, w.before, h.after, w.after};
}

Value image_output(LayerExport& e, std::string name) {
  Value y;
  y.name = std::move(name);
  y.shape = e.output_shape;
  y.layout = Layout::channels_first;
  return y;
}

Value pooling(LayerExport& e, const char* op) {
  const Value x = image_input(e);
  const std::vector<int64_t> pool = e.args.int_or_list("pool_size", 2, 2, 1);
  const std::vector<int64_t> strides =
      e.args.has("strides") ? e.args.int_or_list("strides", std::nullopt, 2, 1) : pool;
  const bool same = e.args.choice("padding", "valid", {"valid", "same"}) == "same";
  // AveragePool's count_include_pad=0 (the default) divides by the real elements, as TF does;
  // MaxPool never picks a padded position.
  return image_output(e, e.graph.node(op, {x.name}, e.name,
                                      {{"kernel_shape", pool},
                                       {"strides", strides},
                                       {"pads", pads(x.shape, pool, strides, same)}}));
}

Value global_pooling(LayerExport& e, const char* op) {
  const Value x = image_input(e);
  Value y = image_output(e, e.graph.node(op, {x.name}, e.name));
  y.shape = {1, 1, x.shape[2]};
  if (e.args.boolean("keepdims", false)) return y;
  return flatten(e.graph, y);
}

// A kernel in ONNX's Conv form [Cout, Cin / group, kh, kw].
struct ConvKernel {
  std::vector<int64_t> dims;
  std::vector<float> values;
};

// Conv2D's (and the pointwise) kernel [kh, kw, Cin, Cout] -> [Cout, Cin, kh, kw].
ConvKernel onnx_conv_kernel(const ParamRef& kernel) {
  const int64_t kh = kernel.shape[0], kw = kernel.shape[1], cin = kernel.shape[2],
                cout = kernel.shape[3];
  ConvKernel k{{cout, cin, kh, kw}, std::vector<float>(static_cast<size_t>(kh * kw * cin * cout))};
  for (int64_t i = 0; i < kh; ++i)
    for (int64_t j = 0; j < kw; ++j)
      for (int64_t c = 0; c < cin; ++c)
        for (int64_t f = 0; f < cout; ++f)
          k.values[static_cast<size_t>(((f * cin + c) * kh + i) * kw + j)] =
              kernel.value[((i * kw + j) * cin + c) * cout + f];
  return k;
}

// The depthwise kernel [kh, kw, C, M] -> [C*M, 1, kh, kw]: output channel c*M + m, as the
// engine orders them.
ConvKernel onnx_depthwise_kernel(const ParamRef& kernel) {
  const int64_t kh = kernel.shape[0], kw = kernel.shape[1], c_in = kernel.shape[2],
                mult = kernel.shape[3];
  ConvKernel k{{c_in * mult, 1, kh, kw},
               std::vector<float>(static_cast<size_t>(kh * kw * c_in * mult))};
  for (int64_t i = 0; i < kh; ++i)
    for (int64_t j = 0; j < kw; ++j)
      for (int64_t c = 0; c < c_in; ++c)
        for (int64_t m = 0; m < mult; ++m)
          k.values[static_cast<size_t>(((c * mult + m) * kh + i) * kw + j)] =
              kernel.value[((i * kw + j) * c_in + c) * mult + m];
  return k;
}

// A Conv of the channels-first x with the layer's strides and padding (spatial) or a plain 1x1.
Value conv(LayerExport& e, const Value& x, const ConvKernel& kernel, const ParamRef* bias,
           int64_t group, const std::string& name, bool spatial = true) {
  const std::vector<int64_t> strides =
      spatial ? e.args.int_or_list("strides", 1, 2, 1) : std::vector<int64_t>{1, 1};
  const bool same = spatial && e.args.choice("padding", "valid", {"valid", "same"}) == "same";
  std::vector<std::string> inputs{x.name,
                                  e.graph.floats(name + "_kernel", kernel.dims, kernel.values)};
  if (bias != nullptr)
    inputs.push_back(e.graph.floats(name + "_bias", {kernel.dims[0]}, bias->value));
  const std::vector<int64_t> window{kernel.dims[2], kernel.dims[3]};
  return image_output(e, e.graph.node("Conv", inputs, name,
                                      {{"kernel_shape", window},
                                       {"strides", strides},
                                       {"pads", pads(x.shape, window, strides, same)},
                                       {"group", group}}));
}

}  // namespace

// Conv2D: Keras's kernel [kh, kw, Cin, Cout] becomes ONNX's [Cout, Cin, kh, kw].
Value export_conv2d(LayerExport& e) {
  const Value x = image_input(e);
  const ParamRef* kernel = e.param("kernel");
  if (kernel == nullptr || kernel->shape.size() != 4)
    e.fail("expected a kernel [kh, kw, Cin, Cout]");
  const Value y = conv(e, x, onnx_conv_kernel(*kernel), e.param("bias"), 1, e.name);
  return export_activation(e, y, e.args.string("activation", "linear"));
}

// DepthwiseConv2D: a Conv with group = Cin, each group one input channel and its M filters.
Value export_depthwise_conv2d(LayerExport& e) {
  const Value x = image_input(e);
  const ParamRef* kernel = e.param("depthwise_kernel");
  if (kernel == nullptr || kernel->shape.size() != 4)
    e.fail("expected a depthwise_kernel [kh, kw, Cin, M]");
  const Value y =
      conv(e, x, onnx_depthwise_kernel(*kernel), e.param("bias"), kernel->shape[2], e.name);
  return export_activation(e, y, e.args.string("activation", "linear"));
}

// SeparableConv2D: the depthwise Conv (no bias), then a 1x1 Conv of the pointwise_kernel
// [1, 1, Cin*M, F] with the layer's bias, as the engine runs it.
Value export_separable_conv2d(LayerExport& e) {
  const Value x = image_input(e);
  const ParamRef* depthwise = e.param("depthwise_kernel");
  const ParamRef* pointwise = e.param("pointwise_kernel");
  if (depthwise == nullptr || depthwise->shape.size() != 4 || pointwise == nullptr ||
      pointwise->shape.size() != 4)
    e.fail("expected a depthwise_kernel [kh, kw, Cin, M] and a pointwise_kernel [1, 1, Cin*M, F]");
  Value mid = conv(e, x, onnx_depthwise_kernel(*depthwise), nullptr, depthwise->shape[2],
                   e.name + "_depthwise");
  mid.shape = {e.output_shape[0], e.output_shape[1], pointwise->shape[2]};
  const Value y =
      conv(e, mid, onnx_conv_kernel(*pointwise), e.param("bias"), 1, e.name, /*spatial=*/false);
  return export_activation(e, y, e.args.string("activation", "linear"));
}

Value export_max_pooling(LayerExport& e) { return pooling(e, "MaxPool"); }
Value export_average_pooling(LayerExport& e) { return pooling(e, "AveragePool"); }

Value export_global_average_pooling(LayerExport& e) {
  return global_pooling(e, "GlobalAveragePool");
}
Value export_global_max_pooling(LayerExport& e) { return global_pooling(e, "GlobalMaxPool"); }

// ZeroPadding2D: Pad (constant zeros) of the H and W axes of [N, C, H, W].
Value export_zero_padding(LayerExport& e) {
  const Value x = image_input(e);
  const Padding2D p = read_padding_sides(e.args, "padding", 1);  // top, bottom, left, right
  const std::string pads = e.graph.int64s(e.name + "_pads", {0, 0, p[0], p[2], 0, 0, p[1], p[3]});
  return image_output(e, e.graph.node("Pad", {x.name, pads}, e.name));
}

// Cropping2D: Slice of the H and W axes of [N, C, H, W].
Value export_cropping(LayerExport& e) {
  const Value x = image_input(e);
  const Padding2D c = read_padding_sides(e.args, "cropping", 0);  // top, bottom, left, right
  const std::string starts = e.graph.int64s(e.name + "_starts", {c[0], c[2]});
  const std::string ends = e.graph.int64s(e.name + "_ends", {x.shape[0] - c[1], x.shape[1] - c[3]});
  const std::string axes = e.graph.int64s(e.name + "_axes", {2, 3});
  return image_output(e, e.graph.node("Slice", {x.name, starts, ends, axes}, e.name));
}

// BatchNormalization in inference form, y = gamma (x - moving_mean) / sqrt(moving_variance +
// epsilon) + beta over the last Keras axis: ONNX's BatchNormalization on images and vectors
// (channels on axis 1), a Mul and an Add of the folded scale and shift on other shapes.
Value export_batch_norm(LayerExport& e) {
  Value x = e.inputs[0];
  const int64_t channels = x.shape.back();
  const double epsilon = e.args.number("epsilon", 1e-3);
  const ParamRef* mean = e.param("moving_mean");
  const ParamRef* var = e.param("moving_variance");
  if (mean == nullptr || var == nullptr) e.fail("expected moving_mean and moving_variance");
  std::vector<float> gamma(static_cast<size_t>(channels), 1.0f), beta(gamma.size(), 0.0f);
  if (const ParamRef* p = e.param("gamma")) gamma.assign(p->value, p->value + channels);
  if (const ParamRef* p = e.param("beta")) beta.assign(p->value, p->value + channels);
  const std::string base = e.name;
  if (x.shape.size() == 3 || x.shape.size() == 1) {
    x = x.shape.size() == 3 ? to_channels_first(e.graph, x) : to_keras(e.graph, x);
    // OpenCV 4.6 fuses a BatchNormalization into the element-wise Mul before it (the end of
    // swish, gelu, hard_swish, a Multiply) and computes it wrongly there; on a [N, C, 1] view
    // the Reshape between them keeps them apart.
    const bool apart = x.shape.size() == 1 && e.graph.producer(x.name) == "Mul";
    if (apart) {
      x.name = e.graph.node("Reshape", {x.name, e.graph.int64s("shape", {-1, channels, 1})},
                            base + "_view");
    }
    Value y = x;
    y.reshaped_from.clear();
    y.name = e.graph.node("BatchNormalization",
                          {x.name, e.graph.floats(base + "_gamma", {channels}, gamma),
                           e.graph.floats(base + "_beta", {channels}, beta),
                           e.graph.floats(base + "_moving_mean", {channels}, mean->value),
                           e.graph.floats(base + "_moving_variance", {channels}, var->value)},
                          apart ? base + "_bn" : base, {{"epsilon", static_cast<float>(epsilon)}});
    if (apart)
      y.name = e.graph.node("Reshape", {y.name, e.graph.int64s("shape", {-1, channels})}, base);
    return y;
  }
  x = to_keras(e.graph, x);
  std::vector<float> scale(gamma.size()), shift(gamma.size());
  for (size_t c = 0; c < gamma.size(); ++c) {
    scale[c] = gamma[c] / std::sqrt(var->value[c] + static_cast<float>(epsilon));
    shift[c] = beta[c] - mean->value[c] * scale[c];
  }
  Value y = x;
  y.reshaped_from.clear();
  const std::string scaled = e.graph.node(
      "Mul", {x.name, e.graph.floats(base + "_scale", {channels}, scale)}, base + "_scaled");
  y.name = e.graph.node("Add", {scaled, e.graph.floats(base + "_shift", {channels}, shift)}, base);
  return y;
}

}  // namespace mnistnet::onnx_export
