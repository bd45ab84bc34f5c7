// Gradient checks and behaviour of Dense, Activation, Flatten and Reshape.
#include <catch2/catch.hpp>

#include "gradient_check.h"
#include "layers/activation.h"
#include "layers/dense.h"
#include "layers/reshape.h"

using namespace mnistnet;
using mnistnet::testing::check_gradients;
using mnistnet::testing::GradientCheckOptions;

TEST_CASE("Dense gradients of input, kernel and bias", "[layers][dense][gradient]") {
  Dense with_bias(5, true, Initializer::glorot_uniform, Initializer::glorot_uniform);
  check_gradients(with_bias, {7});
  Dense without_bias(4, false, Initializer::he_normal, Initializer::zeros);
  check_gradients(without_bias, {6}, {.batch = 5});
}

TEST_CASE("Dense computes x W + b with W stored [in, units]", "[layers][dense]") {
  Dense d(2, true, Initializer::zeros, Initializer::zeros);
  d.build({3});
  auto p = d.params();
  const float w[] = {1, 2, 3, 4, 5, 6};  // rows: inputs, columns: units
  std::copy(w, w + 6, p[0].value);
  p[1].value[0] = 0.5f;
  p[1].value[1] = -1.0f;
  const float x[] = {1, 0, 2, 0, 1, 0};  // two examples
  float y[4];
  d.forward(x, y, 2, false);
  CHECK(y[0] == Approx(1 + 2 * 5 + 0.5));
  CHECK(y[1] == Approx(2 + 2 * 6 - 1.0));
  CHECK(y[2] == Approx(3 + 0.5));
  CHECK(y[3] == Approx(4 - 1.0));
}

TEST_CASE("Dense rejects an input that is not flat", "[layers][dense]") {
  Dense d(3, true, Initializer::zeros, Initializer::zeros);
  REQUIRE_THROWS_WITH(d.build({28, 28}), Catch::Contains("Flatten") && Catch::Contains("[28, 28]"));
}

TEST_CASE("Activation gradients", "[layers][activation][gradient]") {
  SECTION("relu, outside the kink window") {
    Activation a(ActivationKind::relu);
    check_gradients(a, {4, 3}, {.kink = 0.0, .kink_range = 0.02});
  }
  SECTION("sigmoid") {
    Activation a(ActivationKind::sigmoid);
    check_gradients(a, {6});
  }
  SECTION("tanh") {
    Activation a(ActivationKind::tanh);
    check_gradients(a, {6});
  }
  SECTION("softmax") {
    Activation a(ActivationKind::softmax);
    check_gradients(a, {5}, {.step = 1e-3f});
  }
  SECTION("linear") {
    Activation a(ActivationKind::linear);
    check_gradients(a, {5});
  }
}

TEST_CASE("Softmax is finite and sums to one for extreme logits", "[layers][activation]") {
  Activation a(ActivationKind::softmax);
  a.build({3});
  const float x[] = {1000.0f, -1000.0f, 0.0f};
  float y[3];
  a.forward(x, y, 1, false);
  CHECK(y[0] == Approx(1.0f));
  CHECK(y[1] == 0.0f);
  CHECK(std::isfinite(y[2]));
}

TEST_CASE("Flatten and Reshape keep the data and check sizes", "[layers][reshape][gradient]") {
  Reshape flatten({});
  CHECK(flatten.build({28, 28, 1}) == Shape{784});
  CHECK(std::string(flatten.type()) == "Flatten");
  Reshape reshape({28, 28, 1});
  CHECK(reshape.build({784}) == Shape{28, 28, 1});
  Reshape inferred({-1, 7});
  CHECK(inferred.build({14, 2}) == Shape{4, 7});
  Reshape bad({5, 5});
  REQUIRE_THROWS_WITH(bad.build({784}), Catch::Contains("784 values") && Catch::Contains("[5, 5]"));
  Reshape r2({2, 3});
  check_gradients(r2, {6});
}
