// The rows of layers that see vectors or only move data: Dense, Dropout, Flatten, Reshape.
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

}  // namespace mnistnet::onnx_export
