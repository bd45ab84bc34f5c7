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
// with the biased variance, spelt out in ReduceMean, Sub, Mul, Add, Sqrt and Div (ONNX's own
// LayerNormalization needs opset 17 and OpenCV 4.6 does not read it). An image stays
// channels-first and normalises axis 1, its channels; anything else in Keras's order axis -1.
Value export_layer_norm(LayerExport& e) {
  Value x = e.inputs[0];
  const int64_t channels = x.shape.back();
  const bool image = x.layout == Layout::channels_first;
  if (!image) x = to_keras(e.graph, x);
  const std::vector<int64_t> axes{image ? int64_t{1} : int64_t{-1}};
  const std::vector<int64_t> param_dims =
      image ? std::vector<int64_t>{channels, 1, 1} : std::vector<int64_t>{channels};
  const std::string& b = e.name;
  OnnxGraph& g = e.graph;
  const auto mean = [&](const std::string& v, const std::string& name) {
    return g.node("ReduceMean", {v}, name, {{"axes", axes}, {"keepdims", int64_t{1}}});
  };
  const std::string centred = g.node("Sub", {x.name, mean(x.name, b + "_mean")}, b + "_centred");
  const std::string squares = g.node("Mul", {centred, centred}, b + "_squares");
  const std::string var = mean(squares, b + "_variance");
  const float epsilon = static_cast<float>(e.args.number("epsilon", 1e-3));
  const std::string std_dev = g.node(
      "Sqrt", {g.node("Add", {var, g.floats(b + "_epsilon", {}, {epsilon})}, b + "_var_eps")},
      b + "_std");
  std::string y = g.node("Div", {centred, std_dev}, b + "_normalised");
  if (const ParamRef* gamma = e.param("gamma"))
    y = g.node("Mul", {y, g.floats(b + "_gamma", param_dims, gamma->value)}, b + "_scaled");
  if (const ParamRef* beta = e.param("beta"))
    y = g.node("Add", {y, g.floats(b + "_beta", param_dims, beta->value)}, b);
  Value out = x;
  out.reshaped_from.clear();
  out.name = y;
  return out;
}

}  // namespace mnistnet::onnx_export
