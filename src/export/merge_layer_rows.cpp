// The rows of the merge layers, which read several tensors (their config's "inputs"): Add,
// Subtract, Multiply, Average, Maximum and Concatenate. Element-wise merges need their inputs'
// elements in one order: channels-first images of one shape stay so (a ResNet's Adds cost no
// Transpose), anything else is put in Keras's order first.
#include "export/layer_export.h"

namespace mnistnet::onnx_export {
namespace {

// The inputs in one layout: all channels-first when they all are images of the output's shape,
// else all in Keras's order.
std::vector<Value> same_layout(LayerExport& e) {
  bool channels_first = true;
  for (const Value& v : e.inputs)
    channels_first =
        channels_first && v.layout == Layout::channels_first && v.shape == e.inputs[0].shape;
  std::vector<Value> out;
  for (const Value& v : e.inputs) out.push_back(channels_first ? v : to_keras(e.graph, v));
  return out;
}

Value merged(const Value& like, std::string name) {
  Value out = like;
  out.reshaped_from.clear();
  out.name = std::move(name);
  return out;
}

// x_0 op x_1 op ... in the engine's order, each step a binary node (the last named after the
// layer).
Value fold(LayerExport& e, const char* op, const std::string& last_name) {
  const std::vector<Value> xs = same_layout(e);
  if (xs.size() < 2) e.fail("expected at least 2 inputs, got " + std::to_string(xs.size()));
  std::string acc = xs[0].name;
  for (size_t k = 1; k < xs.size(); ++k)
    acc = e.graph.node(op, {acc, xs[k].name},
                       k + 1 == xs.size() ? last_name : e.name + "_" + std::to_string(k));
  return merged(xs[0], acc);
}

}  // namespace

Value export_add(LayerExport& e) { return fold(e, "Add", e.name); }
Value export_multiply(LayerExport& e) { return fold(e, "Mul", e.name); }
Value export_maximum(LayerExport& e) { return fold(e, "Max", e.name); }

Value export_subtract(LayerExport& e) {
  if (e.inputs.size() != 2)
    e.fail("expected exactly 2 inputs, got " + std::to_string(e.inputs.size()));
  return fold(e, "Sub", e.name);
}

// Average: the sum divided by the count, as the engine divides.
Value export_average(LayerExport& e) {
  const Value sum = fold(e, "Add", e.name + "_sum");
  const auto n = static_cast<float>(e.inputs.size());
  return merged(
      sum, e.graph.node("Div", {sum.name, e.graph.floats(e.name + "_count", {}, {n})}, e.name));
}

// Concatenate(axis): Keras counts the batch as axis 0. The channels of channels-first images
// are ONNX's axis 1; otherwise the inputs go to Keras's order and keep Keras's axis.
Value export_concatenate(LayerExport& e) {
  int64_t axis = e.args.integer("axis", -1);
  const auto rank = static_cast<int64_t>(e.output_shape.size()) + 1;
  if (axis < 0) axis += rank;
  bool channels_first = rank == 4 && axis == 3;
  for (const Value& v : e.inputs) channels_first = channels_first && v.shape.size() == 3;
  std::vector<std::string> names;
  for (const Value& v : e.inputs)
    names.push_back(channels_first ? to_channels_first(e.graph, v).name
                                   : to_keras(e.graph, v).name);
  Value out;
  out.shape = e.output_shape;
  out.layout = channels_first ? Layout::channels_first : Layout::keras;
  out.name = e.graph.node("Concat", names, e.name, {{"axis", channels_first ? int64_t{1} : axis}});
  return out;
}

}  // namespace mnistnet::onnx_export
