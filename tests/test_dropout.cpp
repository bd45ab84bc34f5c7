// Dropout: inverted dropout in training, identity in inference, deterministic masks from the
// seed, the frozen-mask gradient check, and the registry row.
#include <catch2/catch.hpp>

#include "config/config_loader.h"
#include "core/errors.h"
#include "gradient_check.h"
#include "layer_config_error.h"
#include "layers/dropout.h"
#include "model/model.h"

using namespace mnistnet;
using Catch::Contains;
using mnistnet::testing::check_gradients;
using mnistnet::testing::random_vector;

namespace {

// A built, initialised, reserved Dropout over examples of `size` elements.
void prepare(Dropout& d, int64_t size, int64_t max_batch, uint64_t model_seed = 1) {
  d.build({size});
  Rng rng(model_seed);
  d.initialize(rng);
  d.reserve(max_batch);
}

std::vector<uint8_t> mask_of_forward(Dropout& d, int64_t size, int64_t batch) {
  std::vector<float> x(static_cast<size_t>(size * batch), 1.0f), y(x.size());
  d.forward(x.data(), y.data(), batch, true);
  return {d.mask().begin(), d.mask().begin() + size * batch};
}

std::string error_of(const std::string& layer) {
  return mnistnet::testing::layer_config_error(layer);
}

}  // namespace

TEST_CASE("Dropout is the identity in inference", "[dropout]") {
  Dropout d(0.5);
  prepare(d, 50, 4);
  const std::vector<float> x = random_vector(200, 1);
  std::vector<float> y(200), dx(200);
  d.forward(x.data(), y.data(), 4, false);
  CHECK(y == x);
  d.backward(x.data(), y.data(), x.data(), dx.data(), 4);
  CHECK(dx == x);
}

TEST_CASE("Dropout with rate 0 is the identity in training too", "[dropout]") {
  Dropout d(0.0);
  prepare(d, 50, 4);
  const std::vector<float> x = random_vector(200, 1);
  std::vector<float> y(200), dx(200);
  d.forward(x.data(), y.data(), 4, true);
  CHECK(y == x);
  d.backward(x.data(), y.data(), x.data(), dx.data(), 4);
  CHECK(dx == x);
}

TEST_CASE("Dropout in training drops about `rate` and preserves the mean", "[dropout]") {
  for (double rate : {0.1, 0.25, 0.5, 0.8}) {
    INFO("rate " << rate);
    Dropout d(rate);
    const int64_t size = 1000, batch = 200;  // 200000 elements: the std of the fraction is ~0.001
    prepare(d, size, batch);
    std::vector<float> x(static_cast<size_t>(size * batch), 1.0f), y(x.size());
    d.forward(x.data(), y.data(), batch, true);
    double sum = 0.0;
    int64_t dropped = 0;
    for (float v : y) {
      sum += v;
      if (v == 0.0f)
        ++dropped;
      else
        CHECK(v == Approx(1.0 / (1.0 - rate)));  // kept values are scaled up
    }
    CHECK(static_cast<double>(dropped) / static_cast<double>(y.size()) ==
          Approx(rate).margin(0.01));
    CHECK(sum / static_cast<double>(y.size()) == Approx(1.0).margin(0.02));
  }
}

TEST_CASE("Dropout backward applies the mask of the last forward", "[dropout]") {
  Dropout d(0.4);
  prepare(d, 30, 3);
  const std::vector<float> x = random_vector(90, 2), dy = random_vector(90, 3);
  std::vector<float> y(90), dx(90);
  d.forward(x.data(), y.data(), 3, true);
  d.backward(x.data(), y.data(), dy.data(), dx.data(), 3);
  for (size_t i = 0; i < 90; ++i) {
    CHECK(y[i] == Approx(d.mask()[i] ? x[i] / 0.6 : 0.0));
    CHECK(dx[i] == Approx(d.mask()[i] ? dy[i] / 0.6 : 0.0));
  }
}

TEST_CASE("Dropout masks are deterministic and fresh each training step", "[dropout]") {
  SECTION("the same seed argument gives the same masks, whatever the model's stream") {
    Dropout a(0.5, 123), b(0.5, 123);
    prepare(a, 64, 2, /*model_seed=*/1);
    prepare(b, 64, 2, /*model_seed=*/2);
    const auto a1 = mask_of_forward(a, 64, 2), a2 = mask_of_forward(a, 64, 2);
    CHECK(a1 == mask_of_forward(b, 64, 2));
    CHECK(a2 == mask_of_forward(b, 64, 2));
    CHECK(a1 != a2);  // a fresh mask each forward
  }
  SECTION("different seeds give different masks") {
    Dropout a(0.5, 123), b(0.5, 124);
    prepare(a, 64, 2);
    prepare(b, 64, 2);
    CHECK(mask_of_forward(a, 64, 2) != mask_of_forward(b, 64, 2));
  }
  SECTION("without a seed, the model's stream decides") {
    Dropout a(0.5), b(0.5), c(0.5);
    prepare(a, 64, 2, 7);
    prepare(b, 64, 2, 7);
    prepare(c, 64, 2, 8);
    const auto ma = mask_of_forward(a, 64, 2);
    CHECK(ma == mask_of_forward(b, 64, 2));
    CHECK(ma != mask_of_forward(c, 64, 2));
  }
  SECTION("initialize restarts the sequence") {
    Dropout a(0.5, 5);
    prepare(a, 64, 2);
    const auto first = mask_of_forward(a, 64, 2);
    Rng rng(1);
    a.initialize(rng);
    CHECK(mask_of_forward(a, 64, 2) == first);
  }
}

TEST_CASE("Dropout frozen mask: the same function on every forward", "[dropout]") {
  Dropout d(0.5, 9);
  prepare(d, 40, 2);
  d.freeze_mask(true);
  const auto first = mask_of_forward(d, 40, 2);
  CHECK(mask_of_forward(d, 40, 2) == first);
  CHECK(mask_of_forward(d, 40, 1) == std::vector<uint8_t>(first.begin(), first.begin() + 40));
  CHECK(mask_of_forward(d, 40, 2) == first);  // a smaller batch did not redraw
  d.freeze_mask(false);
  CHECK(mask_of_forward(d, 40, 2) != first);
}

TEST_CASE("Dropout gradients with a frozen mask", "[dropout][gradient]") {
  Dropout d(0.3, 17);
  d.freeze_mask(true);
  check_gradients(d, {6, 5});
  // The check saw a real mask: some elements were dropped, some kept.
  int kept = 0;
  for (int i = 0; i < 90; ++i) kept += d.mask()[static_cast<size_t>(i)];
  CHECK(kept > 0);
  CHECK(kept < 90);
}

TEST_CASE("Dropout from a config, arguments validated", "[dropout][config][errors]") {
  CHECK(error_of(R"({"type": "Dropout", "rate": 0.25, "seed": 3})") == "(no error)");
  CHECK(error_of(R"({"type": "Dropout", "rate": 0})") == "(no error)");
  CHECK_THAT(error_of(R"({"type": "Dropout", "rate": 1.5})"),
             Contains("t.json: /model/layers/0/rate: expected a number in [0, 1), got 1.5"));
  CHECK_THAT(error_of(R"({"type": "Dropout", "rate": 1})"),
             Contains("/model/layers/0/rate: expected a number in [0, 1)"));
  CHECK_THAT(error_of(R"({"type": "Dropout", "rate": -0.1})"),
             Contains("/model/layers/0/rate: expected a number in [0, 1)"));
  CHECK_THAT(error_of(R"({"type": "Dropout"})"), Contains("/model/layers/0/rate: missing"));
  CHECK_THAT(error_of(R"({"type": "Dropout", "rate": "half"})"),
             Contains("/model/layers/0/rate: expected a number, got the string"));
  CHECK_THAT(error_of(R"({"type": "Dropout", "rate": 0.5, "seed": -1})"),
             Contains("/model/layers/0/seed: expected a non-negative integer"));
  CHECK_THAT(error_of(R"({"type": "Dropout", "rate": 0.5, "noise_shape": [1]})"),
             Contains("/model/layers/0/noise_shape: unknown key"));
}
