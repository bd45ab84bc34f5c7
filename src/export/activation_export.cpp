// Keras activations as ONNX nodes. Element-wise ones keep the tensor's layout; softmax runs over
// the last Keras axis, so it first puts the elements in Keras's order.
#include <map>

#include "export/layer_export.h"

namespace mnistnet::onnx_export {
namespace {

using Emit = Value (*)(LayerExport&, const Value&);

Value unary(LayerExport& e, const Value& v, const char* op) {
  Value out = v;
  out.reshaped_from.clear();
  out.name = e.graph.node(op, {v.name}, e.name + "_" + op);
  return out;
}

Value relu(LayerExport& e, const Value& v) { return unary(e, v, "Relu"); }
Value sigmoid(LayerExport& e, const Value& v) { return unary(e, v, "Sigmoid"); }
Value tanh_(LayerExport& e, const Value& v) { return unary(e, v, "Tanh"); }

Value softmax(LayerExport& e, const Value& v) {
  Value out = to_keras(e.graph, v);
  out.reshaped_from.clear();
  out.name = e.graph.node("Softmax", {out.name}, e.name + "_Softmax", {{"axis", int64_t{-1}}});
  return out;
}

const std::map<std::string, Emit>& activations() {
  static const std::map<std::string, Emit> table = {
      {"relu", relu},
      {"sigmoid", sigmoid},
      {"softmax", softmax},
      {"tanh", tanh_},
  };
  return table;
}

}  // namespace

Value export_activation(LayerExport& e, const Value& v, const std::string& name) {
  if (name == "linear") return v;
  auto it = activations().find(name);
  if (it == activations().end()) e.fail("no ONNX export for the activation \"" + name + "\"");
  return it->second(e, v);
}

std::vector<std::string> exportable_activations() {
  std::vector<std::string> names{"linear"};
  for (const auto& [name, emit] : activations()) names.push_back(name);
  return names;
}

Value export_activation_layer(LayerExport& e) {
  return export_activation(e, e.inputs[0], e.args.string("activation", std::nullopt));
}

}  // namespace mnistnet::onnx_export
