// The rows of layers that see vectors or only move data: Dense, Dropout (and SpatialDropout2D),
// Flatten, Reshape, and LayerNormalization, which sees any shape's last axis.
#include "export/layer_export.h"
#include "layers/activation.h"

namespace mnistnet::onnx_export {

// Dense: Gemm(x [N, in], kernel^T [units, in], bias [units]). After the Flatten of a
// channels-first image the kernel's rows are put in that order, so no Transpose is needed.
Value export_dense(LayerExport& e) {
  Value x = e.inputs[0];
  if (x.layout == Layout::channels_first) x = flatten(e.graph, x);
  const ParamRef* kernel = e.param("kernel");
  if (kernel == nullptr || kernel->shape.size() != 2) e.fail("expected a kernel [in, units]");
  const int64_t in = kernel->shape[0], units = kernel->shape[1];
  // Stored transposed, [units, in] with transB=1: the form every runtime reads (OpenCV 4.6's
  // Gemm takes the output count from B's first dimension).
  std::vector<int64_t> rows(static_cast<size_t>(in));
  for (int64_t k = 0; k < in; ++k) rows[static_cast<size_t>(k)] = k;
  if (x.layout == Layout::flat_channels_first) rows = channels_first_order(x.image);
  std::vector<float> w(static_cast<size_t>(in * units));
  for (int64_t k = 0; k < in; ++k)
    for (int64_t u = 0; u < units; ++u)
      w[static_cast<size_t>(u * in + k)] = kernel->value[rows[static_cast<size_t>(k)] * units + u];
  std::vector<std::string> inputs{x.name, e.graph.floats(e.name + "_kernel", {units, in}, w)};
  if (const ParamRef* bias = e.param("bias"))
    inputs.push_back(e.graph.floats(e.name + "_bias", {units}, bias->value));
  Value y;
  y.shape = {units};
  y.name = e.graph.node("Gemm", inputs, e.name, {{"transB", int64_t{1}}});
  return export_activation(e, y, e.args.string("activation", "linear"));
}

// Inference Dropout is the identity: no node.
Value export_dropout(LayerExport& e) { return e.inputs[0]; }

Value export_flatten(LayerExport& e) { return flatten(e.graph, e.inputs[0]); }

Value export_reshape(LayerExport& e) { return reshape_keras(e.graph, e.inputs[0], e.output_shape); }

// LayerNormalization over the last Keras axis, y = gamma (x - mean) / sqrt(var + epsilon) + beta
// with the biased variance. ONNX's LayerNormalization needs opset 17, and OpenCV 4.6 neither
// reads it nor broadcasts a Sub or Div of [.., C] by the [.., 1] of a ReduceMean, so every
// statistic is made at full shape: the mean broadcast over the channels is one linear map (a
// 1x1 Conv or a Gemm with every weight 1/C), then element-wise nodes, and gamma and beta one
// more linear map (a depthwise 1x1 Conv, a Gemm with diag(gamma)).
Value export_layer_norm(LayerExport& e) {
  OnnxGraph& g = e.graph;
  const std::string& b = e.name;
  const Value& in = e.inputs[0];
  const int64_t channels = in.shape.back();
  const auto c = static_cast<size_t>(channels);
  const bool image = in.shape.size() == 3;
  Value x = image ? to_channels_first(g, in) : to_keras(g, in);
  std::vector<float> gamma(c, 1.0f), beta(c, 0.0f);
  if (const ParamRef* p = e.param("gamma")) gamma.assign(p->value, p->value + channels);
  if (const ParamRef* p = e.param("beta")) beta.assign(p->value, p->value + channels);
  std::vector<float> diagonal(c * c, 0.0f);
  for (size_t k = 0; k < c; ++k) diagonal[k * c + k] = gamma[k];
  const std::vector<float> averaging(c * c, 1.0f / static_cast<float>(channels));
  // A vector of other ranks is normalised as rows [-1, C] and reshaped back.
  std::string source = x.name;
  const bool rows = !image && x.shape.size() != 1;
  if (rows) source = g.node("Reshape", {source, g.int64s("shape", {-1, channels})}, b + "_rows");
  const auto channel_mean = [&](const std::string& v, const std::string& name) {
    if (image)
      return g.node("Conv", {v, g.floats(name + "_weights", {channels, channels, 1, 1}, averaging)},
                    name, {{"kernel_shape", std::vector<int64_t>{1, 1}}});
    return g.node("Gemm", {v, g.floats(name + "_weights", {channels, channels}, averaging)}, name,
                  {{"transB", int64_t{1}}});
  };
  const std::string centred =
      g.node("Sub", {source, channel_mean(source, b + "_mean")}, b + "_centred");
  const std::string var =
      channel_mean(g.node("Mul", {centred, centred}, b + "_squares"), b + "_variance");
  const float epsilon = static_cast<float>(e.args.number("epsilon", 1e-3));
  const std::string std_dev = g.node(
      "Sqrt", {g.node("Add", {var, g.floats(b + "_epsilon", {}, {epsilon})}, b + "_var_eps")},
      b + "_std");
  const std::string normalised = g.node("Div", {centred, std_dev}, b + "_normalised");
  Value out = x;
  out.reshaped_from.clear();
  if (image) {
    out.name = g.node("Conv",
                      {normalised, g.floats(b + "_gamma", {channels, 1, 1, 1}, gamma),
                       g.floats(b + "_beta", {channels}, beta)},
                      b, {{"kernel_shape", std::vector<int64_t>{1, 1}}, {"group", channels}});
    return out;
  }
  out.name = g.node("Gemm",
                    {normalised, g.floats(b + "_gamma", {channels, channels}, diagonal),
                     g.floats(b + "_beta", {channels}, beta)},
                    rows ? b + "_scaled" : b, {{"transB", int64_t{1}}});
  if (rows) out.name = g.node("Reshape", {out.name, g.int64s("shape", onnx_dims(x))}, b);
  return out;
}

}  // namespace mnistnet::onnx_export
