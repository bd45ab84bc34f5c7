// Keras activations as ONNX nodes, and the ReLU and LeakyReLU layers. Element-wise ones keep the
// tensor's layout; softmax runs over the last Keras axis, so it first puts the elements in Keras's
// order.
#include <cmath>
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

// The activations the coming layers bring, in Keras 3's definitions (the random-model test
// draws from MNISTNET_ACTIVATION_NAMES, so each is checked against both runtimes once the
// engine has it).
Value elu(LayerExport& e, const Value& v) { return unary(e, v, "Elu"); }    // alpha 1
Value selu(LayerExport& e, const Value& v) { return unary(e, v, "Selu"); }  // ONNX's defaults
Value softplus(LayerExport& e, const Value& v) { return unary(e, v, "Softplus"); }

Value with_name(const Value& v, std::string name) {
  Value out = v;
  out.reshaped_from.clear();
  out.name = std::move(name);
  return out;
}

// leaky_relu(x, negative_slope=0.2).
Value leaky_relu(LayerExport& e, const Value& v) {
  return with_name(v,
                   e.graph.node("LeakyRelu", {v.name}, e.name + "_LeakyRelu", {{"alpha", 0.2f}}));
}

// min(v, cap) as v - relu(v - cap): exactly v wherever v <= cap, and within an ulp of v of the
// cap above it. OpenCV 4.6 reads neither opset 11's Clip (min and max as inputs) nor a Min
// with a constant.
Value capped(LayerExport& e, const Value& v, float cap, const std::string& name) {
  OnnxGraph& g = e.graph;
  const std::string over = g.node(
      "Relu", {g.node("Sub", {v.name, g.floats(name + "_cap", {}, {cap})}, name + "_minus_cap")},
      name + "_over");
  return with_name(v, g.node("Sub", {v.name, over}, name));
}

// relu6 = min(max(x, 0), 6).
Value relu6(LayerExport& e, const Value& v) {
  return capped(e, relu(e, v), 6.0f, e.name + "_Relu6");
}

// swish = silu = x * sigmoid(x).
Value swish(LayerExport& e, const Value& v) {
  const std::string s = e.graph.node("Sigmoid", {v.name}, e.name + "_Sigmoid");
  return with_name(v, e.graph.node("Mul", {v.name, s}, e.name + "_Swish"));
}

// hard_swish = x * relu6(x + 3) / 6 = x * HardSigmoid(x; 1/6, 1/2) (HardSwish needs opset 14).
Value hard_swish(LayerExport& e, const Value& v) {
  const std::string s = e.graph.node("HardSigmoid", {v.name}, e.name + "_HardSigmoid",
                                     {{"alpha", 1.0f / 6.0f}, {"beta", 0.5f}});
  return with_name(v, e.graph.node("Mul", {v.name, s}, e.name + "_HardSwish"));
}

// gelu (approximate=False) = x / 2 * (1 + erf(x / sqrt(2))) (Gelu itself needs opset 20).
Value gelu(LayerExport& e, const Value& v) {
  const std::string scaled = e.graph.node(
      "Mul", {v.name, e.graph.floats(e.name + "_rsqrt2", {}, {0.70710678f})}, e.name + "_scaled");
  const std::string erf = e.graph.node("Erf", {scaled}, e.name + "_Erf");
  const std::string one =
      e.graph.node("Add", {erf, e.graph.floats(e.name + "_one", {}, {1.0f})}, e.name + "_1erf");
  const std::string half = e.graph.node(
      "Mul", {v.name, e.graph.floats(e.name + "_half", {}, {0.5f})}, e.name + "_half_x");
  return with_name(v, e.graph.node("Mul", {half, one}, e.name + "_Gelu"));
}

Value softmax(LayerExport& e, const Value& v) {
  Value out = to_keras(e.graph, v);
  out.reshaped_from.clear();
  out.name = e.graph.node("Softmax", {out.name}, e.name + "_Softmax", {{"axis", int64_t{-1}}});
  return out;
}

const std::map<std::string, Emit>& activations() {
  static const std::map<std::string, Emit> table = {
      {"elu", elu},
      {"gelu", gelu},
      {"hard_silu", hard_swish},
      {"hard_swish", hard_swish},
      {"leaky_relu", leaky_relu},
      {"relu", relu},
      {"relu6", relu6},
      {"selu", selu},
      {"sigmoid", sigmoid},
      {"silu", swish},
      {"softmax", softmax},
      {"softplus", softplus},
      {"swish", swish},
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

// Keras 3's LeakyReLU(negative_slope=0.3): v >= 0 ? v : slope * v, ONNX's LeakyRelu.
Value export_leaky_relu_layer(LayerExport& e) {
  const Value& v = e.inputs[0];
  const auto slope = static_cast<float>(e.args.number("negative_slope", 0.3));
  return with_name(v, e.graph.node("LeakyRelu", {v.name}, e.name, {{"alpha", slope}}));
}

// Keras's ReLU(max_value, negative_slope, threshold), as the engine computes it:
//   x >= max_value ? max_value : x >= threshold ? x : slope * (x - threshold).
// The common forms are Relu or LeakyRelu, then the cap; a threshold needs a step function.
Value export_relu_layer(LayerExport& e) {
  const Value& v = e.inputs[0];
  const nlohmann::json* max_arg = e.args.value("max_value");
  const bool clipped = max_arg != nullptr && !max_arg->is_null();
  const float max_value = clipped ? max_arg->get<float>() : 0.0f;
  const auto slope = static_cast<float>(e.args.number("negative_slope", 0.0));
  const auto threshold = static_cast<float>(e.args.number("threshold", 0.0));
  OnnxGraph& g = e.graph;
  const std::string& b = e.name;
  const auto constant = [&](const char* what, float value) {
    return g.floats(b + "_" + what, {}, {value});
  };
  if (slope == 0.0f && threshold == 0.0f) {
    const Value r = with_name(v, g.node("Relu", {v.name}, clipped ? b + "_relu" : b));
    return clipped ? capped(e, r, max_value, b) : r;
  }
  if (threshold == 0.0f) {
    // x >= 0 ? x : slope * x; max_value >= 0 caps only the positive side.
    const Value r =
        with_name(v, g.node("LeakyRelu", {v.name}, clipped ? b + "_leaky" : b, {{"alpha", slope}}));
    return clipped ? capped(e, r, max_value, b) : r;
  }
  // The threshold's jump needs a step; OpenCV 4.6 reads no Where, so the step is built from
  // Sign: sign(sign(x - c) + 1/2) is -1 below c and 1 from c on, its relu [x >= c] and the
  // relu of its negation [x < c], and the selection a [x >= c] + b [x < c] is exact.
  const auto select_at_least = [&](const std::string& x, float c, const std::string& a,
                                   const std::string& b_name, const std::string& name) {
    const std::string sign =
        g.node("Sign",
               {g.node("Add",
                       {g.node("Sign", {g.node("Sub", {x, constant("c", c)}, name + "_minus_c")},
                               name + "_sign"),
                        constant("half", 0.5f)},
                       name + "_sign_half")},
               name + "_at_least_sign");
    const std::string at_least = g.node("Relu", {sign}, name + "_at_least");
    const std::string below =
        g.node("Relu", {g.node("Mul", {sign, constant("minus_one", -1.0f)}, name + "_neg")},
               name + "_below");
    return g.node("Add",
                  {g.node("Mul", {at_least, a}, name + "_upper"),
                   g.node("Mul", {below, b_name}, name + "_lower")},
                  name);
  };
  const std::string shifted_below =
      g.node("Mul",
             {g.node("Sub", {v.name, constant("threshold", threshold)}, b + "_shifted"),
              constant("slope", slope)},
             b + "_slope");
  std::string y =
      select_at_least(v.name, threshold, v.name, shifted_below, clipped ? b + "_thresholded" : b);
  if (clipped) y = select_at_least(v.name, max_value, constant("max", max_value), y, b);
  return with_name(v, y);
}

}  // namespace mnistnet::onnx_export
