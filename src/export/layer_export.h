#pragma once
// The exporter's table: one row per Keras layer type, a function that emits the layer's ONNX
// nodes from its config arguments and parameters. A layer reads named input tensors and makes
// one; sequential models chain them, a layer graph names them. Adding a layer to the export
// touches one row in export_table.cpp and its function.
#include <map>
#include <string>
#include <vector>

#include "config/json_fields.h"
#include "export/onnx_graph.h"
#include "export/tensor_layout.h"
#include "layers/layer.h"

namespace mnistnet::onnx_export {

struct LayerExport {
  OnnxGraph& graph;
  std::string where;  // "RUN/model.mnn: /model/layers/3 (conv2d_1, Conv2D)"
  std::string name;   // the layer's name, the base of its tensor names
  JsonFields& args;   // the layer's config object, as in the model file
  std::vector<Value> inputs;
  Shape output_shape;                      // per example, as the model built it
  std::map<std::string, ParamRef> params;  // "kernel", "bias", "moving_mean" ...

  // The parameter, or nullptr when the layer has none of that name (use_bias=false ...).
  const ParamRef* param(const std::string& key) const;
  // A UserError "WHERE: WHAT".
  [[noreturn]] void fail(const std::string& what) const;
};

using ExportRow = Value (*)(LayerExport&);
using ExportTable = std::map<std::string, ExportRow>;

// Every layer type mnistnet can export.
const ExportTable& export_table();

// The rows (in their own files).
Value export_activation_layer(LayerExport& e);
Value export_add(LayerExport& e);
Value export_average(LayerExport& e);
Value export_average_pooling(LayerExport& e);
Value export_batch_norm(LayerExport& e);
Value export_concatenate(LayerExport& e);
Value export_conv2d(LayerExport& e);
Value export_cropping(LayerExport& e);
Value export_dense(LayerExport& e);
Value export_depthwise_conv2d(LayerExport& e);
Value export_dropout(LayerExport& e);
Value export_flatten(LayerExport& e);
Value export_global_average_pooling(LayerExport& e);
Value export_global_max_pooling(LayerExport& e);
Value export_layer_norm(LayerExport& e);
Value export_leaky_relu_layer(LayerExport& e);
Value export_max_pooling(LayerExport& e);
Value export_maximum(LayerExport& e);
Value export_multiply(LayerExport& e);
Value export_relu_layer(LayerExport& e);
Value export_reshape(LayerExport& e);
Value export_separable_conv2d(LayerExport& e);
Value export_subtract(LayerExport& e);
Value export_zero_padding(LayerExport& e);

// Keras's activation `name` (the "activation" argument) applied to v; "linear" adds nothing.
// An activation without an ONNX form is e.fail naming it.
Value export_activation(LayerExport& e, const Value& v, const std::string& name);
// The activation names export_activation knows.
std::vector<std::string> exportable_activations();

}  // namespace mnistnet::onnx_export
