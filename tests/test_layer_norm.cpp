// LayerNormalization: per-example statistics over the last axis, Keras's parameters and
// defaults, gradients with and without gamma / beta, config errors.
#include <catch2/catch.hpp>
#include <cmath>

#include "gradient_check.h"
#include "layer_config_error.h"
#include "layers/layer_norm.h"

using namespace mnistnet;
using Catch::Contains;
using mnistnet::testing::check_gradients;
using mnistnet::testing::layer_config_error;

TEST_CASE("LayerNormalization normalises each example's last axis", "[layers][layernorm]") {
  LayerNormalization ln;
  REQUIRE(ln.build({2, 2}) == Shape{2, 2});
  // Rows {1, 3} and {10, 20}: means 2 and 15, variances 1 and 25; epsilon 1e-3 (Keras).
  const float x[] = {1, 3, 10, 20};
  float y[4];
  ln.forward(x, y, 1, true);
  CHECK(y[0] == Approx(-1.0 / std::sqrt(1.001)));
  CHECK(y[1] == Approx(1.0 / std::sqrt(1.001)));
  CHECK(y[2] == Approx(-5.0 / std::sqrt(25.001)));
  CHECK(y[3] == Approx(5.0 / std::sqrt(25.001)));
  // Inference is the same map (no moving statistics).
  float z[4];
  ln.forward(x, z, 1, false);
  CHECK(std::vector<float>(z, z + 4) == std::vector<float>(y, y + 4));

  auto p = ln.params();
  REQUIRE(p.size() == 2);
  CHECK(p[0].name == "gamma");
  CHECK(p[1].name == "beta");
  p[0].value[1] = 2.0f;
  p[1].value[1] = 0.5f;
  ln.forward(x, y, 1, false);
  CHECK(y[3] == Approx(2.0 * 5.0 / std::sqrt(25.001) + 0.5));
}

TEST_CASE("LayerNormalization gradients", "[layers][layernorm][gradient]") {
  const LayerNormOptions random_affine{.beta_initializer = Initializer::glorot_uniform,
                                       .gamma_initializer = Initializer::glorot_uniform};
  SECTION("image-shaped {3, 3, 4}: per pixel") {
    LayerNormalization ln(random_affine);
    check_gradients(ln, {3, 3, 4});
  }
  SECTION("flat {6}, no center") {
    LayerNormalization ln({.center = false, .gamma_initializer = Initializer::glorot_uniform});
    check_gradients(ln, {6}, {.batch = 5});
  }
  SECTION("flat {5}, neither center nor scale") {
    LayerNormalization ln({.center = false, .scale = false});
    check_gradients(ln, {5});
    CHECK(ln.params().empty());
  }
}

TEST_CASE("LayerNormalization from a config", "[layers][layernorm][config][errors]") {
  CHECK(layer_config_error(R"({"type": "LayerNormalization", "epsilon": 1e-5, "axis": -1})") ==
        "(no error)");
  CHECK(layer_config_error(R"({"type": "LayerNormalization", "axis": 1})") ==
        "t.json: /model/layers/0/axis: only -1 (the last axis) is supported, got 1");
  CHECK_THAT(layer_config_error(R"({"type": "LayerNormalization", "epsilon": 0})"),
             Contains("t.json: /model/layers/0/epsilon: expected a number > 0"));
  CHECK_THAT(layer_config_error(R"({"type": "LayerNormalization", "rms_scaling": true})"),
             Contains("t.json: /model/layers/0/rms_scaling: only false is supported"));
  CHECK_THAT(layer_config_error(R"({"type": "LayerNormalization", "momentum": 0.9})"),
             Contains("t.json: /model/layers/0/momentum: unknown key"));
}
