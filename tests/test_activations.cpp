// The activations beyond the codelab's (relu6, leaky_relu, elu, selu, gelu, swish/silu,
// hard_swish, softplus) and the ReLU / LeakyReLU layers: values against Keras's formulas in
// double precision, finite-difference gradients (kinks kept out of the step), registry rows.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>

#include "config/config_loader.h"
#include "gradient_check.h"
#include "layer_config_error.h"
#include "layers/activation.h"
#include "layers/activation_math.h"
#include "layers/registry.h"
#include "shifted_input.h"

using namespace mnistnet;
using Catch::Contains;
using mnistnet::testing::check_gradients;
using mnistnet::testing::GradientCheckOptions;
using mnistnet::testing::ShiftedInput;

namespace {

// Keras's definitions, in double.
double keras_reference(ActivationKind kind, double x) {
  const double alpha = 1.6732632423543772, scale = 1.0507009873554805;
  switch (kind) {
    case ActivationKind::relu6:
      return std::min(std::max(x, 0.0), 6.0);
    case ActivationKind::leaky_relu:
      return x >= 0 ? x : 0.2 * x;
    case ActivationKind::elu:
      return x > 0 ? x : std::expm1(x);
    case ActivationKind::selu:
      return scale * (x > 0 ? x : alpha * std::expm1(x));
    case ActivationKind::gelu:
      return 0.5 * x *
             std::erfc(-x / std::sqrt(2.0));  // = (1 + erf(x / sqrt 2)) / 2, no cancellation
    case ActivationKind::swish:
      return x / (1.0 + std::exp(-x));
    case ActivationKind::hard_swish:
      return x * std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0;
    case ActivationKind::softplus:
      return std::log1p(std::exp(x));
    default:
      return NAN;
  }
}

std::vector<float> activate(ActivationKind kind, const std::vector<float>& x,
                            ActivationArgs a = {}) {
  Activation act(kind, a);
  act.build({static_cast<int64_t>(x.size())});
  std::vector<float> y(x.size());
  act.forward(x.data(), y.data(), 1, false);
  return y;
}

const ActivationKind kNewKinds[] = {ActivationKind::relu6,      ActivationKind::leaky_relu,
                                    ActivationKind::elu,        ActivationKind::selu,
                                    ActivationKind::gelu,       ActivationKind::swish,
                                    ActivationKind::hard_swish, ActivationKind::softplus};

ActivationKind kind_of(const std::string& layer_json) {
  LayerSpec spec;
  spec.args = nlohmann::json::parse(layer_json);
  spec.type = spec.args["type"].get<std::string>();
  spec.pointer = "/model/layers/0";
  LayerGroup g = make_layer(spec, "t.json");
  auto* act = dynamic_cast<Activation*>(g.ops.back().get());
  REQUIRE(act);
  return act->kind();
}

}  // namespace

TEST_CASE("The vectorisable exp, expm1, normal tail and log1p match the double library functions",
          "[layers][activation]") {
  double worst_exp = 0, worst_erfc = 0, worst_log1p = 0;
  for (double x = -87.0; x <= 88.0; x += 0.0137) {
    const double ref = std::exp(x);
    worst_exp = std::max(worst_exp, std::abs(activation_math::exp(static_cast<float>(x)) -
                                             std::exp(double{static_cast<float>(x)})) /
                                        ref);
  }
  for (double a = 0.0; a <= 13.0; a += 0.001) {
    const auto af = static_cast<float>(a);
    const double ref = 0.5 * std::erfc(double{af} / std::sqrt(2.0));
    worst_erfc = std::max(worst_erfc, std::abs(activation_math::normal_tail(af) - ref) / ref);
  }
  for (double t = 0.0; t <= 1.0; t += 0.0001) {
    const auto tf = static_cast<float>(t);
    const double ref = std::log1p(double{tf});
    if (ref > 0) {
      worst_log1p = std::max(worst_log1p, std::abs(activation_math::log1p_unit(tf) - ref) / ref);
    }
  }
  double worst_expm1 = 0;
  for (double x = -3.0; x <= 3.0; x += 0.00037) {
    const auto xf = static_cast<float>(x);
    const double ref = std::expm1(double{xf});
    if (ref != 0)
      worst_expm1 =
          std::max(worst_expm1, std::abs(activation_math::expm1(xf) - ref) / std::abs(ref));
  }
  CHECK(worst_expm1 < 4e-7);
  CHECK(worst_exp < 4e-7);   // a few float ulps (2^-23 = 1.2e-7)
  CHECK(worst_erfc < 6e-7);  // the fit's 1.2e-7 and a few float roundings
  CHECK(worst_log1p < 4e-7);
  CHECK(activation_math::exp(-200.0f) >= 0.0f);
  CHECK(std::isfinite(activation_math::exp(200.0f)));
}

TEST_CASE("New activations follow Keras's formulas from -20 to 20", "[layers][activation]") {
  std::vector<float> x;
  for (float v = -20.0f; v <= 20.0f; v += 0.01953125f) x.push_back(v);
  x.push_back(0.0f);
  for (ActivationKind kind : kNewKinds) {
    const std::vector<float> y = activate(kind, x);
    for (size_t i = 0; i < x.size(); ++i) {
      const double ref = keras_reference(kind, x[i]);
      INFO("kind " << static_cast<int>(kind) << " x " << x[i] << " y " << y[i] << " ref " << ref);
      CHECK(std::abs(y[i] - ref) <= 2e-6 * std::abs(ref) + 1e-30);
    }
  }
}

TEST_CASE("New activations on hand-computed values", "[layers][activation]") {
  using K = ActivationKind;
  CHECK(activate(K::relu6, {-1, 3, 7}) == std::vector<float>{0, 3, 6});
  CHECK(activate(K::leaky_relu, {-2, 2})[0] == Approx(-0.4));  // keras.activations: slope 0.2
  CHECK(activate(K::leaky_relu, {-2}, {.negative_slope = 0.3f})[0] == Approx(-0.6));
  CHECK(activate(K::elu, {-1, 2})[0] == Approx(std::exp(-1.0) - 1.0));
  CHECK(activate(K::elu, {-1}, {.alpha = 0.5f})[0] == Approx(0.5 * (std::exp(-1.0) - 1.0)));
  CHECK(activate(K::selu, {1})[0] == Approx(1.0507009873554805));
  CHECK(activate(K::gelu, {1})[0] == Approx(0.8413447460685429));
  CHECK(activate(K::gelu, {-5})[0] == Approx(-5 * 2.866515718791939e-07).epsilon(1e-5));
  CHECK(activate(K::swish, {1})[0] == Approx(0.7310585786300049));
  CHECK(activate(K::hard_swish, {-4, 1, 4}) == std::vector<float>{-0.0f, 1.0f * 4.0f / 6.0f, 4.0f});
  CHECK(activate(K::softplus, {0})[0] == Approx(std::log(2.0)));
  CHECK(activate(K::softplus, {100})[0] == 100.0f);
  // Keras's ReLU(max_value=2, negative_slope=0.1, threshold=0.5).
  const ActivationArgs relu_args{.negative_slope = 0.1f, .max_value = 2.0f, .threshold = 0.5f};
  const std::vector<float> r = activate(K::relu_options, {-1, 0.25f, 0.5f, 1.5f, 2, 3}, relu_args);
  CHECK(r[0] == Approx(0.1 * (-1 - 0.5)));
  CHECK(r[1] == Approx(0.1 * (0.25 - 0.5)));
  CHECK(r[2] == 0.5f);
  CHECK(r[3] == 1.5f);
  CHECK(r[4] == 2.0f);
  CHECK(r[5] == 2.0f);
}

TEST_CASE("New activations: finite-difference gradients", "[layers][activation][gradient]") {
  using K = ActivationKind;
  const GradientCheckOptions kink0{.kink = 0.0, .kink_range = 0.02};
  SECTION("smooth ones, on [-1, 1) and moved to [-6, -2) and [2, 6)") {
    for (K kind : {K::gelu, K::swish, K::softplus, K::elu}) {
      for (float offset : {0.0f, -4.0f, 4.0f}) {
        INFO("kind " << static_cast<int>(kind) << " offset " << offset);
        Activation a(kind);
        ShiftedInput s(a, 2.0f, offset);
        check_gradients(s, {4, 3});
      }
    }
  }
  SECTION("kinks at 0: leaky_relu, selu, elu with alpha 0.5, relu6") {
    for (K kind : {K::leaky_relu, K::selu, K::elu, K::relu6}) {
      Activation a(kind, {.alpha = 0.5f});
      check_gradients(a, {4, 3}, kink0);
    }
  }
  SECTION("relu6's kink at 6, moved to input 0") {
    Activation a(K::relu6);
    ShiftedInput s(a, 3.0f, 6.0f);
    check_gradients(s, {4, 3}, kink0);
  }
  SECTION("hard_swish: the kinks at -3 and 3 moved to 0, and the middle") {
    for (float offset : {-3.0f, 3.0f, 0.0f}) {
      Activation a(K::hard_swish);
      ShiftedInput s(a, 2.0f, offset);
      check_gradients(s, {4, 3}, kink0);
    }
  }
  SECTION("ReLU(negative_slope=0.1, threshold=0.3), kink at the threshold") {
    Activation a(K::relu_options, {.negative_slope = 0.1f, .threshold = 0.3f});
    check_gradients(a, {4, 3}, {.kink = 0.3, .kink_range = 0.02});
  }
  SECTION("ReLU(max_value=2.5), its kink moved to input 0.5") {
    Activation a(K::relu_options, {.negative_slope = 0.0f, .max_value = 2.5f});
    ShiftedInput s(a, 1.0f, 2.0f);
    check_gradients(s, {4, 3}, {.kink = 0.5, .kink_range = 0.02});
  }
}

TEST_CASE("activation= accepts the new names, ReLU and LeakyReLU layers", "[layers][activation]") {
  using K = ActivationKind;
  CHECK(kind_of(R"({"type": "Dense", "units": 3, "activation": "silu"})") == K::swish);
  CHECK(kind_of(R"({"type": "Dense", "units": 3, "activation": "swish"})") == K::swish);
  CHECK(kind_of(R"({"type": "Dense", "units": 3, "activation": "hard_silu"})") == K::hard_swish);
  CHECK(kind_of(R"({"type": "Activation", "activation": "gelu"})") == K::gelu);
  // ReLU() is the plain relu, so batch norm before it still absorbs it (bit-identical).
  CHECK(kind_of(R"({"type": "ReLU"})") == K::relu);
  CHECK(kind_of(R"({"type": "ReLU", "max_value": 6})") == K::relu6);
  CHECK(kind_of(R"({"type": "ReLU", "max_value": null})") == K::relu);
  CHECK(kind_of(R"({"type": "ReLU", "max_value": 6, "negative_slope": 0.1})") == K::relu_options);
  CHECK(kind_of(R"({"type": "LeakyReLU"})") == K::leaky_relu);

  // LeakyReLU's default slope is Keras 3's 0.3 (the activation function's is 0.2).
  LayerSpec spec{"LeakyReLU", nlohmann::json::parse(R"({"type": "LeakyReLU"})"), "/model/layers/0"};
  LayerGroup g = make_layer(spec, "t.json");
  g.ops[0]->build({1});
  const float x = -1.0f;
  float y = 0;
  g.ops[0]->forward(&x, &y, 1, false);
  CHECK(y == Approx(-0.3));
}

TEST_CASE("ReLU and LeakyReLU argument errors", "[layers][activation][config][errors]") {
  using mnistnet::testing::layer_config_error;
  CHECK(layer_config_error(R"({"type": "ReLU", "max_value": -1})") ==
        "t.json: /model/layers/0/max_value: expected null or a number >= 0, got -1");
  CHECK_THAT(layer_config_error(R"({"type": "ReLU", "max_value": "6"})"),
             Contains("/model/layers/0/max_value: expected null or a number >= 0"));
  CHECK_THAT(layer_config_error(R"({"type": "ReLU", "negative_slope": -0.1})"),
             Contains("t.json: /model/layers/0/negative_slope: expected a number >= 0"));
  CHECK_THAT(layer_config_error(R"({"type": "ReLU", "threshold": -1})"),
             Contains("t.json: /model/layers/0/threshold: expected a number >= 0"));
  CHECK_THAT(layer_config_error(R"({"type": "LeakyReLU", "negative_slope": -0.3})"),
             Contains("t.json: /model/layers/0/negative_slope: expected a number >= 0"));
  CHECK_THAT(layer_config_error(R"({"type": "LeakyReLU", "alpha": 0.3})"),
             Contains("t.json: /model/layers/0/alpha: unknown key"));
  CHECK_THAT(
      layer_config_error(R"({"type": "Dense", "units": 3, "activation": "mish"})"),
      Contains("t.json: /model/layers/0/activation: expected one of") && Contains("hard_swish"));
  CHECK(layer_config_error(R"({"type": "ReLU", "max_value": 6, "threshold": 0.5})") ==
        "(no error)");
}
