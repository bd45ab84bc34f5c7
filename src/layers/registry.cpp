#include "layers/registry.h"

#include <functional>
#include <map>

#include "config/json_fields.h"
#include "core/errors.h"
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/global_pooling.h"
#include "layers/initializer.h"
#include "layers/pooling.h"
#include "layers/reshape.h"

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

Ops make_global_average_pooling(JsonFields& f) {
  read_channels_last(f);
  Ops ops;
  ops.push_back(std::make_unique<GlobalAveragePooling2D>(f.boolean("keepdims", false)));
  return ops;
}

const std::map<std::string, Factory>& registry() {
  static const std::map<std::string, Factory> table = {
      {"Activation", make_activation},
      {"AveragePooling2D", make_pooling<AveragePooling2D>},
      {"BatchNormalization", make_batch_norm},
      {"Conv2D", make_conv2d},
      {"Dense", make_dense},
      {"Dropout", make_dropout},
      {"Flatten", make_flatten},
      {"GlobalAveragePooling2D", make_global_average_pooling},
      {"MaxPooling2D", make_pooling<MaxPooling2D>},
      {"Reshape", make_reshape},
  };
  return table;
}

}  // namespace

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
  group.ops = it->second(f);
  f.finish();
  return group;
}

}  // namespace mnistnet
