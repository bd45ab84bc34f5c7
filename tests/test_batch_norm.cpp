// BatchNormalization: batch vs moving statistics, the moving-average update, Keras's parameter
// layout, gradients through the batch statistics, and the registry row.
#include <catch2/catch.hpp>
#include <cmath>
#include <utility>

#include "config/config_loader.h"
#include "core/errors.h"
#include "fusion_check.h"
#include "gradient_check.h"
#include "layer_config_error.h"
#include "layers/batch_norm.h"
#include "model/loss.h"
#include "model/model.h"

using namespace mnistnet;
using Catch::Contains;
using mnistnet::testing::check_gradients;
using mnistnet::testing::GradientCheckOptions;
using mnistnet::testing::random_vector;

namespace {

// Per-column mean and biased variance of x viewed as [rows, cols], in double.
void moments(const std::vector<float>& x, int64_t cols, std::vector<double>& mean,
             std::vector<double>& var) {
  const auto c_n = static_cast<size_t>(cols);
  const size_t rows = x.size() / c_n;
  mean.assign(c_n, 0.0);
  var.assign(c_n, 0.0);
  for (size_t i = 0; i < x.size(); ++i) mean[i % c_n] += x[i];
  for (double& m : mean) m /= static_cast<double>(rows);
  for (size_t i = 0; i < x.size(); ++i) var[i % c_n] += std::pow(x[i] - mean[i % c_n], 2);
  for (double& v : var) v /= static_cast<double>(rows);
}

ParamRef param(BatchNormalization& bn, const std::string& name) {
  for (ParamRef& p : bn.params())
    if (p.name == name) return p;
  FAIL("no parameter " << name);
  return {};
}

std::string error_of(const std::string& layer) {
  return mnistnet::testing::layer_config_error(layer);
}

}  // namespace

TEST_CASE("BatchNormalization gradients through the batch statistics", "[batchnorm][gradient]") {
  // Non-trivial gamma and beta, so their effect on dx is checked too.
  const BatchNormOptions random_affine{.beta_initializer = Initializer::glorot_uniform,
                                       .gamma_initializer = Initializer::glorot_uniform};
  SECTION("conv-shaped input {4, 4, 3}: per channel over batch * 16 rows") {
    BatchNormalization bn(random_affine);
    check_gradients(bn, {4, 4, 3});
  }
  SECTION("conv-shaped, no center, no scale") {
    BatchNormalization bn({.center = false, .scale = false});
    check_gradients(bn, {4, 4, 3});
  }
  SECTION("conv-shaped, center only (Keras's usual choice before a ReLU)") {
    BatchNormalization bn({.center = true, .scale = false});
    check_gradients(bn, {4, 4, 3});
  }
  SECTION("dense-shaped input {5}: per unit over the batch") {
    BatchNormalization bn(random_affine);
    check_gradients(bn, {5}, {.batch = 8});
  }
  SECTION("dense-shaped, scale only") {
    BatchNormalization bn(
        {.center = false, .scale = true, .gamma_initializer = Initializer::glorot_uniform});
    check_gradients(bn, {5}, {.batch = 8});
  }
  SECTION("dense-shaped, default (gamma 1, beta 0)") {
    BatchNormalization bn;
    check_gradients(bn, {5}, {.batch = 6});
  }
  SECTION("inference mode: moving statistics are constants") {
    BatchNormalization bn({.beta_initializer = Initializer::glorot_uniform,
                           .gamma_initializer = Initializer::glorot_uniform,
                           .moving_mean_initializer = Initializer::glorot_uniform});
    check_gradients(bn, {3, 3, 2}, {.training = false});
  }
}

TEST_CASE("BatchNormalization training normalises each channel with batch statistics",
          "[batchnorm]") {
  BatchNormalization bn;
  REQUIRE(bn.build({3, 3, 4}) == Shape{3, 3, 4});
  Rng rng(1);
  bn.initialize(rng);
  const int64_t batch = 5, n = batch * 36;
  bn.reserve(batch);
  std::vector<float> x = random_vector(n, 3, 2.0f), y(static_cast<size_t>(n));
  for (size_t i = 0; i < x.size(); ++i) x[i] += static_cast<float>(i % 4);  // per-channel offsets
  bn.forward(x.data(), y.data(), batch, true);
  std::vector<double> in_mean, in_var, out_mean, out_var;
  moments(x, 4, in_mean, in_var);
  moments(y, 4, out_mean, out_var);
  for (size_t c = 0; c < 4; ++c) {
    CHECK(out_mean[c] == Approx(0.0).margin(1e-5));
    CHECK(out_var[c] == Approx(in_var[c] / (in_var[c] + 1e-3)).epsilon(1e-4));
  }
}

TEST_CASE("BatchNormalization inference uses the moving statistics", "[batchnorm]") {
  BatchNormalization bn;
  bn.build({6});
  Rng rng(1);
  bn.initialize(rng);
  bn.reserve(4);
  const std::vector<float> x = random_vector(24, 5, 3.0f);
  std::vector<float> y(24);
  SECTION("fresh moving statistics (mean 0, variance 1): nearly the identity") {
    bn.forward(x.data(), y.data(), 4, false);
    for (size_t i = 0; i < x.size(); ++i) CHECK(y[i] == Approx(x[i] / std::sqrt(1.001)));
    // Inference leaves the moving statistics alone.
    CHECK(param(bn, "moving_mean").value[0] == 0.0f);
    CHECK(param(bn, "moving_variance").value[0] == 1.0f);
  }
  SECTION("given moving statistics, gamma and beta") {
    for (size_t c = 0; c < 6; ++c) {
      param(bn, "moving_mean").value[c] = 0.5f * static_cast<float>(c);
      param(bn, "moving_variance").value[c] = 1.0f + static_cast<float>(c);
      param(bn, "gamma").value[c] = 2.0f;
      param(bn, "beta").value[c] = -1.0f;
    }
    bn.forward(x.data(), y.data(), 4, false);
    for (size_t i = 0; i < x.size(); ++i) {
      const double c = static_cast<double>(i % 6);
      CHECK(y[i] == Approx(2.0 * (x[i] - 0.5 * c) / std::sqrt(1.0 + c + 1e-3) - 1.0).margin(1e-5));
    }
  }
}

TEST_CASE("BatchNormalization inference needs no workspace: any batch size", "[batchnorm]") {
  // The model runs inference in chunks larger than the training batch it reserved for.
  BatchNormalization bn;
  bn.build({2, 2, 3});
  Rng rng(1);
  bn.initialize(rng);
  bn.reserve(1);
  const std::vector<float> x = random_vector(300 * 12, 4);
  std::vector<float> y(x.size());
  bn.forward(x.data(), y.data(), 300, false);
  CHECK(y.back() == Approx(x.back() / std::sqrt(1.001)));
}

TEST_CASE("BatchNormalization moving averages follow Keras's update", "[batchnorm]") {
  BatchNormalization bn({.momentum = 0.9});
  bn.build({2, 2, 3});
  Rng rng(1);
  bn.initialize(rng);
  bn.reserve(4);
  const std::vector<float> x1 = random_vector(48, 11, 2.0f), x2 = random_vector(24, 12, 5.0f);
  std::vector<float> y(48);
  std::vector<double> m1, v1, m2, v2;
  moments(x1, 3, m1, v1);
  moments(x2, 3, m2, v2);
  bn.forward(x1.data(), y.data(), 4, true);
  float* mm = param(bn, "moving_mean").value;
  float* mv = param(bn, "moving_variance").value;
  for (size_t c = 0; c < 3; ++c) {
    CHECK(mm[c] == Approx(0.1 * m1[c]).margin(1e-7));
    CHECK(mv[c] == Approx(0.9 + 0.1 * v1[c]));  // biased variance, no Bessel correction
  }
  bn.forward(x2.data(), y.data(), 2, true);  // a smaller batch
  for (size_t c = 0; c < 3; ++c) {
    CHECK(mm[c] == Approx(0.9 * 0.1 * m1[c] + 0.1 * m2[c]).margin(1e-6));
    CHECK(mv[c] == Approx(0.9 * (0.9 + 0.1 * v1[c]) + 0.1 * v2[c]));
  }
}

TEST_CASE("After one training forward with momentum 0.99 the moving mean is 0.01 * the batch mean",
          "[batchnorm]") {
  BatchNormalization bn;
  bn.build({4});
  Rng rng(1);
  bn.initialize(rng);
  bn.reserve(10);
  std::vector<float> x = random_vector(40, 21, 1.0f), y(40);
  for (size_t i = 0; i < x.size(); ++i) x[i] += 3.0f * static_cast<float>(i % 4);
  std::vector<double> mean, var;
  moments(x, 4, mean, var);
  bn.forward(x.data(), y.data(), 10, true);
  for (size_t c = 0; c < 4; ++c) {
    CHECK(param(bn, "moving_mean").value[c] == Approx(0.01 * mean[c]).margin(1e-7));
    CHECK(param(bn, "moving_variance").value[c] == Approx(0.99 + 0.01 * var[c]));
  }
}

TEST_CASE("BatchNormalization statistics stay accurate for a large mean", "[batchnorm]") {
  // Values 10000 +- 1: the biased variance is exactly 1; a one-pass float sum of squares would
  // lose it entirely.
  BatchNormalization bn;
  bn.build({1});
  Rng rng(1);
  bn.initialize(rng);
  bn.reserve(1000);
  std::vector<float> x(1000), y(1000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = i % 2 ? 10001.0f : 9999.0f;
  bn.forward(x.data(), y.data(), 1000, true);
  for (size_t i = 0; i < 4; ++i) CHECK(y[i] == Approx((i % 2 ? 1.0 : -1.0) / std::sqrt(1.001)));
  CHECK(param(bn, "moving_variance").value[0] == Approx(0.99 + 0.01 * 1.0));
}

TEST_CASE("BatchNormalization parameters in Keras's order and counts", "[batchnorm]") {
  SECTION("default: gamma, beta trainable; moving statistics not") {
    BatchNormalization bn;
    bn.build({5, 5, 8});
    const auto p = bn.params();
    REQUIRE(p.size() == 4);
    CHECK(p[0].name == "gamma");
    CHECK(p[1].name == "beta");
    CHECK(p[2].name == "moving_mean");
    CHECK(p[3].name == "moving_variance");
    for (const ParamRef& r : p) CHECK(r.shape == Shape{8});
    CHECK((p[0].trainable && p[1].trainable && !p[2].trainable && !p[3].trainable));
    CHECK((p[0].grad && p[1].grad && !p[2].grad && !p[3].grad));
  }
  SECTION("center=true, scale=false on 24 channels: 72 params, 48 non-trainable") {
    BatchNormalization bn({.center = true, .scale = false});
    bn.build({14, 14, 24});
    int64_t total = 0, frozen = 0;
    for (const ParamRef& r : bn.params()) {
      total += r.size();
      if (!r.trainable) frozen += r.size();
    }
    CHECK(total == 72);
    CHECK(frozen == 48);
    CHECK(bn.params()[0].name == "beta");
  }
  SECTION("initialisers") {
    BatchNormalization bn({.beta_initializer = Initializer::ones,
                           .gamma_initializer = Initializer::zeros,
                           .moving_mean_initializer = Initializer::ones,
                           .moving_variance_initializer = Initializer::zeros});
    bn.build({3});
    Rng rng(1);
    bn.initialize(rng);
    CHECK(param(bn, "gamma").value[2] == 0.0f);
    CHECK(param(bn, "beta").value[2] == 1.0f);
    CHECK(param(bn, "moving_mean").value[2] == 1.0f);
    CHECK(param(bn, "moving_variance").value[2] == 0.0f);
  }
}

TEST_CASE("BatchNormalization backward without dx still writes the parameter gradients",
          "[batchnorm]") {
  BatchNormalization bn;
  bn.build({2});
  Rng rng(1);
  bn.initialize(rng);
  bn.reserve(3);
  const float x[] = {1, 5, 2, 5, 3, 8};
  const float dy[] = {1, 1, 1, 1, 1, -2};
  float y[6];
  bn.forward(x, y, 3, true);
  bn.backward(x, y, dy, nullptr, 3);
  CHECK(param(bn, "beta").grad[0] == Approx(3.0));
  CHECK(param(bn, "beta").grad[1] == Approx(0.0).margin(1e-6));
  CHECK(param(bn, "gamma").grad[0] == Approx(0.0).margin(1e-6));  // dy constant in column 0
  CHECK(param(bn, "gamma").grad[1] == Approx(-2.0 * y[5] + y[1] + y[3]));
}

TEST_CASE("BatchNormalization from a config, arguments validated", "[batchnorm][config][errors]") {
  Model m = Model::build(
      parse_model_spec(nlohmann::json::parse(R"({"input_shape": [28, 28, 1], "layers": [
        {"type": "Reshape", "target_shape": [784]},
        {"type": "Dense", "units": 24, "use_bias": false},
        {"type": "BatchNormalization", "center": true, "scale": false, "axis": -1,
         "momentum": 0.9, "epsilon": 1e-5},
        {"type": "Activation", "activation": "relu"},
        {"type": "Dense", "units": 10, "activation": "softmax"}]})"),
                       "t.json", "/model"),
      1);
  CHECK(m.summary_rows()[2].params == 72);
  CHECK(m.summary_rows()[2].output == Shape{24});

  CHECK_THAT(error_of(R"({"type": "BatchNormalization", "axis": 1})"),
             Contains("t.json: /model/layers/0/axis: only -1") && Contains("got 1"));
  CHECK_THAT(error_of(R"({"type": "BatchNormalization", "momentum": 1.5})"),
             Contains("/model/layers/0/momentum: expected a number in [0") && Contains("got 1.5"));
  CHECK_THAT(error_of(R"({"type": "BatchNormalization", "epsilon": 0})"),
             Contains("/model/layers/0/epsilon: expected a number > 0"));
  CHECK_THAT(error_of(R"({"type": "BatchNormalization", "center": "yes"})"),
             Contains("/model/layers/0/center: expected true or false"));
  CHECK_THAT(error_of(R"({"type": "BatchNormalization", "gamma_initializer": "two"})"),
             Contains("/model/layers/0/gamma_initializer: expected one of"));
  CHECK_THAT(error_of(R"({"type": "BatchNormalization", "renorm": true})"),
             Contains("/model/layers/0/renorm: unknown key"));
  CHECK(error_of(R"({"type": "BatchNormalization"})") == "(no error)");
}

TEST_CASE("A relu after batch norm runs inside it, with the same bits as the two ops",
          "[batchnorm][model]") {
  // The Dropout(0) between them is an identity that stops the fusion: the reference. The first
  // Dense's gradient checks batch norm's dx. The codelab's form (center only) with
  // Activation("relu"), and Keras's defaults (gamma and beta) with a ReLU() layer.
  const auto [bn, relu] = GENERATE(
      std::pair{R"({"type": "BatchNormalization", "scale": false},)",
                R"({"type": "Activation", "activation": "relu"},)"},
      std::pair{R"({"type": "BatchNormalization", "gamma_initializer": "glorot_uniform"},)",
                R"({"type": "ReLU"},)"});
  const auto spec = [bn = std::string(bn), relu = std::string(relu)](const char* between) {
    return parse_model_spec(nlohmann::json::parse(R"({"input_shape": [12], "layers": [
        {"type": "Dense", "units": 6, "use_bias": false},)" +
                                                  bn + between + relu + R"(
        {"type": "Dense", "units": 3, "activation": "softmax"}]})"),
                            "test.json", "/model");
  };
  testing::check_fused_equals_unfused(spec, 12, {2});
}
