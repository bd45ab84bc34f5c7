#include "layers/registry.h"

#include <cmath>
#include <functional>
#include <map>

#include "config/json_fields.h"
#include "core/errors.h"
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/concatenate.h"
#include "layers/conv2d.h"
#include "layers/cropping.h"
#include "layers/dense.h"
#include "layers/depthwise_conv2d.h"
#include "layers/dropout.h"
#include "layers/elementwise_merge.h"
#include "layers/global_pooling.h"
#include "layers/initializer.h"
#include "layers/layer_norm.h"
#include "layers/padding_sides.h"
#include "layers/pooling.h"
#include "layers/reshape.h"
#include "layers/spatial_dropout.h"
#include "layers/zero_padding.h"

namespace mnistnet {
namespace {

using Ops = std::vector<std::unique_ptr<Layer>>;
using Factory = std::function<Ops(JsonFields&)>;

// Keras layers take an optional activation; "linear" (the default) adds no operation.
void add_activation(Ops& ops, JsonFields& f) {
  std::string name = f.choice("activation", "linear", {MNISTNET_ACTIVATION_NAMES});
  if (name != "linear") ops.push_back(std::make_unique<Activation>(activation_from_name(name)));
}

Initializer read_initializer(JsonFields& f, const std::string& key, const char* fallback) {
  return initializer_from_name(f.choice(key, fallback, {MNISTNET_INITIALIZER_NAMES}));
}

// Keras's L1L2 regularizer config: {"l2": 0.01}, {"l1": 0.01}, {"l1": a, "l2": b}; absent: none.
Regularizer read_regularizer(JsonFields& f, const std::string& key) {
  Regularizer r;
  if (!f.has(key)) return r;
  JsonFields args = f.object(key);
  if (!args.has("l1") && !args.has("l2"))
    args.fail("l2", "missing; expected {\"l2\": x}, {\"l1\": x} or {\"l1\": a, \"l2\": b}");
  r.l1 = args.number("l1", 0.0, 0.0);
  r.l2 = args.number("l2", 0.0, 0.0);
  args.finish();
  return r;
}

Ops make_dense(JsonFields& f) {
  Ops ops;
  const int64_t units = f.integer("units", std::nullopt, 1, 1 << 20);
  const bool use_bias = f.boolean("use_bias", true);
  const Initializer kernel = read_initializer(f, "kernel_initializer", "glorot_uniform");
  const Initializer bias = read_initializer(f, "bias_initializer", "zeros");
  auto dense = std::make_unique<Dense>(units, use_bias, kernel, bias);
  dense->set_regularizers(read_regularizer(f, "kernel_regularizer"),
                          read_regularizer(f, "bias_regularizer"));
  ops.push_back(std::move(dense));
  add_activation(ops, f);
  return ops;
}

Ops make_activation(JsonFields& f) {
  Ops ops;
  std::string name = f.choice("activation", std::nullopt, {MNISTNET_ACTIVATION_NAMES});
  ops.push_back(std::make_unique<Activation>(activation_from_name(name)));
  return ops;
}

// Keras's ReLU(max_value=None, negative_slope=0, threshold=0), each argument >= 0 as Keras checks.
// The defaults make the plain relu (so batch norm can still absorb it), max_value 6 alone relu6.
Ops make_relu(JsonFields& f) {
  ActivationArgs a;
  const nlohmann::json* max_value = f.value("max_value");
  if (max_value && !max_value->is_null()) {
    if (!max_value->is_number() || max_value->get<double>() < 0.0)
      f.fail("max_value", "expected null or a number >= 0, got " + describe_json(*max_value));
    a.max_value = max_value->get<float>();
  }
  a.negative_slope = static_cast<float>(f.number("negative_slope", 0.0, 0.0));
  a.threshold = static_cast<float>(f.number("threshold", 0.0, 0.0));
  const bool plain = a.negative_slope == 0.0f && a.threshold == 0.0f;
  Ops ops;
  if (plain && std::isinf(a.max_value)) {
    ops.push_back(std::make_unique<Activation>(ActivationKind::relu));
  } else if (plain && a.max_value == 6.0f) {
    ops.push_back(std::make_unique<Activation>(ActivationKind::relu6));
  } else {
    ops.push_back(std::make_unique<Activation>(ActivationKind::relu_options, a));
  }
  return ops;
}

// Keras 3's LeakyReLU(negative_slope=0.3); the slope must be >= 0.
Ops make_leaky_relu(JsonFields& f) {
  ActivationArgs a;
  a.negative_slope = static_cast<float>(f.number("negative_slope", 0.3, 0.0));
  Ops ops;
  ops.push_back(std::make_unique<Activation>(ActivationKind::leaky_relu, a));
  return ops;
}

Ops make_flatten(JsonFields&) {
  Ops ops;
  ops.push_back(std::make_unique<Reshape>(Shape{}));
  return ops;
}

Ops make_reshape(JsonFields& f) {
  Ops ops;
  const nlohmann::json& target = f.array("target_shape");
  Shape shape;
  int unknowns = 0;
  for (const auto& d : target) {
    if (!d.is_number_integer() || (d.get<int64_t>() < 1 && d.get<int64_t>() != -1))
      f.fail("target_shape",
             "expected a list of positive integers (one may be -1), got " + describe_json(target));
    unknowns += d.get<int64_t>() == -1;
    shape.push_back(d.get<int64_t>());
  }
  if (shape.empty() || unknowns > 1)
    f.fail("target_shape",
           "expected a non-empty list with at most one -1, got " + describe_json(target));
  ops.push_back(std::make_unique<Reshape>(shape));
  return ops;
}

// Keras's BatchNormalization. Only axis=-1 (channels last); the regularizer/constraint and
// renorm arguments are not supported and so are unknown keys.
Ops make_batch_norm(JsonFields& f) {
  if (f.has("axis")) {
    const int64_t axis = f.integer("axis", std::nullopt);
    if (axis != -1) {
      f.fail("axis", "only -1 (the last, channels axis) is supported, got " + std::to_string(axis));
    }
  }
  BatchNormOptions o;
  o.momentum = f.number("momentum", 0.99, 0.0, 1.0);
  o.epsilon = f.number("epsilon", 1e-3);
  if (!(o.epsilon > 0.0))
    f.fail("epsilon", "expected a number > 0, got " + describe_json(o.epsilon));
  o.center = f.boolean("center", true);
  o.scale = f.boolean("scale", true);
  o.beta_initializer = read_initializer(f, "beta_initializer", "zeros");
  o.gamma_initializer = read_initializer(f, "gamma_initializer", "ones");
  o.moving_mean_initializer = read_initializer(f, "moving_mean_initializer", "zeros");
  o.moving_variance_initializer = read_initializer(f, "moving_variance_initializer", "ones");
  Ops ops;
  ops.push_back(std::make_unique<BatchNormalization>(o));
  return ops;
}

// Keras's Dropout(rate, seed=None); noise_shape is not supported.
Ops make_dropout(JsonFields& f) {
  const double rate = f.number("rate", std::nullopt);
  if (!(rate >= 0.0 && rate < 1.0))
    f.fail("rate", "expected a number in [0, 1), got " + describe_json(rate));
  std::optional<uint64_t> seed;
  if (f.has("seed")) seed = static_cast<uint64_t>(f.integer("seed", std::nullopt, 0));
  Ops ops;
  ops.push_back(std::make_unique<Dropout>(rate, seed));
  return ops;
}

// Keras's SpatialDropout2D(rate, seed=None): Dropout's arguments, whole channels dropped.
Ops make_spatial_dropout(JsonFields& f) {
  const double rate = f.number("rate", std::nullopt);
  if (!(rate >= 0.0 && rate < 1.0))
    f.fail("rate", "expected a number in [0, 1), got " + describe_json(rate));
  std::optional<uint64_t> seed;
  if (f.has("seed")) seed = static_cast<uint64_t>(f.integer("seed", std::nullopt, 0));
  f.choice("data_format", "channels_last", {"channels_last"});
  Ops ops;
  ops.push_back(std::make_unique<SpatialDropout2D>(rate, seed));
  return ops;
}

// Keras's LayerNormalization(axis=-1, epsilon=1e-3, center=True, scale=True); only the last
// axis, and rms_scaling only false.
Ops make_layer_norm(JsonFields& f) {
  if (f.has("axis")) {
    const int64_t axis = f.integer("axis", std::nullopt);
    if (axis != -1) {
      f.fail("axis", "only -1 (the last axis) is supported, got " + std::to_string(axis));
    }
  }
  LayerNormOptions o;
  o.epsilon = f.number("epsilon", 1e-3);
  if (!(o.epsilon > 0.0))
    f.fail("epsilon", "expected a number > 0, got " + describe_json(o.epsilon));
  o.center = f.boolean("center", true);
  o.scale = f.boolean("scale", true);
  if (f.boolean("rms_scaling", false)) f.fail("rms_scaling", "only false is supported");
  o.beta_initializer = read_initializer(f, "beta_initializer", "zeros");
  o.gamma_initializer = read_initializer(f, "gamma_initializer", "ones");
  Ops ops;
  ops.push_back(std::make_unique<LayerNormalization>(o));
  return ops;
}

// Keras's Conv2D(filters, kernel_size, strides=1, padding="valid", use_bias=True, activation=None).
Ops make_conv2d(JsonFields& f) {
  Conv2DOptions o;
  o.filters = f.integer("filters", std::nullopt, 1, 1 << 16);
  const std::vector<int64_t> kernel = f.int_or_list("kernel_size", std::nullopt, 2, 1);
  const std::vector<int64_t> strides = f.int_or_list("strides", 1, 2, 1);
  o.kernel_h = kernel[0];
  o.kernel_w = kernel[1];
  o.stride_h = strides[0];
  o.stride_w = strides[1];
  o.same = f.choice("padding", "valid", {"valid", "same"}) == "same";
  o.use_bias = f.boolean("use_bias", true);
  o.kernel_init = read_initializer(f, "kernel_initializer", "glorot_uniform");
  o.bias_init = read_initializer(f, "bias_initializer", "zeros");
  o.kernel_regularizer = read_regularizer(f, "kernel_regularizer");
  o.bias_regularizer = read_regularizer(f, "bias_regularizer");
  const std::vector<int64_t> dilation = f.int_or_list("dilation_rate", 1, 2, 1);
  if (dilation[0] != 1 || dilation[1] != 1)
    f.fail("dilation_rate", "only 1 (no dilation) is supported");
  f.choice("data_format", "channels_last", {"channels_last"});
  Ops ops;
  ops.push_back(std::make_unique<Conv2D>(o));
  add_activation(ops, f);
  return ops;
}

// The spatial arguments DepthwiseConv2D and SeparableConv2D share with Conv2D.
DepthwiseConv2DOptions read_depthwise(JsonFields& f) {
  DepthwiseConv2DOptions o;
  const std::vector<int64_t> kernel = f.int_or_list("kernel_size", std::nullopt, 2, 1);
  const std::vector<int64_t> strides = f.int_or_list("strides", 1, 2, 1);
  o.kernel_h = kernel[0];
  o.kernel_w = kernel[1];
  o.stride_h = strides[0];
  o.stride_w = strides[1];
  o.same = f.choice("padding", "valid", {"valid", "same"}) == "same";
  o.depth_multiplier = f.integer("depth_multiplier", 1, 1, 1 << 12);
  o.depthwise_init = read_initializer(f, "depthwise_initializer", "glorot_uniform");
  const std::vector<int64_t> dilation = f.int_or_list("dilation_rate", 1, 2, 1);
  if (dilation[0] != 1 || dilation[1] != 1)
    f.fail("dilation_rate", "only 1 (no dilation) is supported");
  f.choice("data_format", "channels_last", {"channels_last"});
  return o;
}

// Keras's DepthwiseConv2D(kernel_size, strides=1, padding="valid", depth_multiplier=1,
// use_bias=True, activation=None).
Ops make_depthwise_conv2d(JsonFields& f) {
  DepthwiseConv2DOptions o = read_depthwise(f);
  o.use_bias = f.boolean("use_bias", true);
  o.bias_init = read_initializer(f, "bias_initializer", "zeros");
  Ops ops;
  ops.push_back(std::make_unique<DepthwiseConv2D>(o));
  add_activation(ops, f);
  return ops;
}

// Keras's SeparableConv2D(filters, kernel_size, ...): a DepthwiseConv2D op without bias, then
// a 1x1 Conv2D op (Keras's pointwise_kernel [1, 1, C*M, filters] and the layer's bias), so the
// pointwise GEMM runs on the Conv2D kernels.
Ops make_separable_conv2d(JsonFields& f) {
  const int64_t filters = f.integer("filters", std::nullopt, 1, 1 << 16);
  DepthwiseConv2DOptions depthwise = read_depthwise(f);
  depthwise.use_bias = false;
  Conv2DOptions pointwise;
  pointwise.filters = filters;
  pointwise.kernel_h = pointwise.kernel_w = 1;
  pointwise.kernel_name = "pointwise_kernel";
  pointwise.use_bias = f.boolean("use_bias", true);
  pointwise.kernel_init = read_initializer(f, "pointwise_initializer", "glorot_uniform");
  pointwise.bias_init = read_initializer(f, "bias_initializer", "zeros");
  Ops ops;
  ops.push_back(std::make_unique<DepthwiseConv2D>(depthwise));
  ops.push_back(std::make_unique<Conv2D>(pointwise));
  add_activation(ops, f);
  return ops;
}

// Only Keras's default data layout exists here; naming it is allowed for line-by-line copies.
void read_channels_last(JsonFields& f) {
  f.choice("data_format", "channels_last", {"channels_last"});
}

// MaxPooling2D / AveragePooling2D: pool_size (default 2), strides (default pool_size), padding.
template <class Pool>
Ops make_pooling(JsonFields& f) {
  const std::vector<int64_t> pool = f.int_or_list("pool_size", 2, 2, 1);
  const std::vector<int64_t> strides =
      f.has("strides") ? f.int_or_list("strides", std::nullopt, 2, 1) : pool;
  const bool same = f.choice("padding", "valid", {"valid", "same"}) == "same";
  read_channels_last(f);
  Ops ops;
  ops.push_back(std::make_unique<Pool>(std::array<int64_t, 2>{pool[0], pool[1]},
                                       std::array<int64_t, 2>{strides[0], strides[1]},
                                       same ? PoolPadding::same : PoolPadding::valid));
  return ops;
}

// Keras's ZeroPadding2D(padding=(1, 1)) and Cropping2D(cropping=((0, 0), (0, 0))).
Ops make_zero_padding(JsonFields& f) {
  const Padding2D padding = read_padding_sides(f, "padding", 1);
  read_channels_last(f);
  Ops ops;
  ops.push_back(std::make_unique<ZeroPadding2D>(padding));
  return ops;
}

Ops make_cropping(JsonFields& f) {
  const Padding2D cropping = read_padding_sides(f, "cropping", 0);
  read_channels_last(f);
  Ops ops;
  ops.push_back(std::make_unique<Cropping2D>(cropping));
  return ops;
}

Ops make_global_max_pooling(JsonFields& f) {
  read_channels_last(f);
  Ops ops;
  ops.push_back(std::make_unique<GlobalMaxPooling2D>(f.boolean("keepdims", false)));
  return ops;
}

Ops make_global_average_pooling(JsonFields& f) {
  read_channels_last(f);
  Ops ops;
  ops.push_back(std::make_unique<GlobalAveragePooling2D>(f.boolean("keepdims", false)));
  return ops;
}

// The element-wise merge layers (Add, Subtract, ...) take no arguments but their inputs.
template <MergeKind kKind>
Ops make_merge(JsonFields&) {
  Ops ops;
  ops.push_back(std::make_unique<ElementwiseMerge>(kKind));
  return ops;
}

// Keras's Concatenate(axis=-1); the axis is checked against the inputs' rank when they are known.
Ops make_concatenate(JsonFields& f) {
  Ops ops;
  ops.push_back(std::make_unique<Concatenate>(f.integer("axis", -1, -64, 64)));
  return ops;
}

const std::map<std::string, Factory>& registry() {
  static const std::map<std::string, Factory> table = {
      {"Activation", make_activation},
      {"Add", make_merge<MergeKind::add>},
      {"Average", make_merge<MergeKind::average>},
      {"Concatenate", make_concatenate},
      {"Maximum", make_merge<MergeKind::maximum>},
      {"Multiply", make_merge<MergeKind::multiply>},
      {"Subtract", make_merge<MergeKind::subtract>},
      {"AveragePooling2D", make_pooling<AveragePooling2D>},
      {"BatchNormalization", make_batch_norm},
      {"Conv2D", make_conv2d},
      {"Cropping2D", make_cropping},
      {"Dense", make_dense},
      {"DepthwiseConv2D", make_depthwise_conv2d},
      {"Dropout", make_dropout},
      {"Flatten", make_flatten},
      {"GlobalAveragePooling2D", make_global_average_pooling},
      {"GlobalMaxPooling2D", make_global_max_pooling},
      {"LayerNormalization", make_layer_norm},
      {"LeakyReLU", make_leaky_relu},
      {"MaxPooling2D", make_pooling<MaxPooling2D>},
      {"ReLU", make_relu},
      {"Reshape", make_reshape},
      {"SeparableConv2D", make_separable_conv2d},
      {"SpatialDropout2D", make_spatial_dropout},
      {"ZeroPadding2D", make_zero_padding},
  };
  return table;
}

}  // namespace

Padding2D read_padding_sides(JsonFields& f, const std::string& key, int64_t fallback) {
  const nlohmann::json* v = f.value(key);
  if (!v) return {fallback, fallback, fallback, fallback};
  const auto count = [](const nlohmann::json& x) {
    return x.is_number_integer() && x.get<int64_t>() >= 0;
  };
  const auto pair = [&](const nlohmann::json& x) {
    return x.is_array() && x.size() == 2 && count(x[0]) && count(x[1]);
  };
  if (count(*v)) {
    const auto p = v->get<int64_t>();
    return {p, p, p, p};
  }
  if (v->is_array() && v->size() == 2 && count((*v)[0]) && count((*v)[1])) {
    const auto h = (*v)[0].get<int64_t>(), w = (*v)[1].get<int64_t>();
    return {h, h, w, w};
  }
  if (v->is_array() && v->size() == 2 && pair((*v)[0]) && pair((*v)[1])) {
    return {(*v)[0][0].get<int64_t>(), (*v)[0][1].get<int64_t>(), (*v)[1][0].get<int64_t>(),
            (*v)[1][1].get<int64_t>()};
  }
  f.fail(key,
         "expected an integer >= 0, [height, width] or [[top, bottom], [left, right]] of such "
         "integers, got " +
             describe_json(*v));
}

std::vector<std::string> known_layer_types() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : registry()) names.push_back(name);
  return names;
}

LayerGroup make_layer(const LayerSpec& spec, const std::string& source) {
  JsonFields f(spec.args, source, spec.pointer);
  f.skip("type");
  auto it = registry().find(spec.type);
  if (it == registry().end()) {
    std::string known;
    for (const auto& n : known_layer_types()) known += (known.empty() ? "" : ", ") + n;
    f.fail("type", "unknown layer type \"" + spec.type + "\" (known: " + known + ")");
  }
  LayerGroup group;
  group.type = spec.type;
  group.name = f.string("name", "");
  if (f.has("inputs")) {
    const nlohmann::json& inputs = f.array("inputs");
    group.has_inputs = true;
    for (size_t k = 0; k < inputs.size(); ++k) {
      if (!inputs[k].is_string() || inputs[k].get<std::string>().empty())
        f.fail("inputs", "expected a list of layer names, got " + describe_json(inputs));
      group.inputs.push_back(inputs[k].get<std::string>());
    }
  }
  group.ops = it->second(f);
  f.finish();
  return group;
}

}  // namespace mnistnet
