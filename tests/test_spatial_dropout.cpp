// SpatialDropout2D: whole channels dropped, the identity in inference, masks deterministic per
// seed and fresh per step, gradients with a frozen mask, config errors.
#include <catch2/catch.hpp>
#include <memory>

#include "gradient_check.h"
#include "layer_config_error.h"
#include "layers/spatial_dropout.h"

using namespace mnistnet;
using Catch::Contains;
using mnistnet::testing::check_gradients;
using mnistnet::testing::layer_config_error;
using mnistnet::testing::random_vector;

namespace {

std::vector<float> run(SpatialDropout2D& d, const std::vector<float>& x, int64_t batch,
                       bool training) {
  std::vector<float> y(x.size());
  d.forward(x.data(), y.data(), batch, training);
  return y;
}

std::unique_ptr<SpatialDropout2D> built(double rate, std::optional<uint64_t> seed, int64_t batch,
                                        uint64_t model_seed = 1) {
  auto d = std::make_unique<SpatialDropout2D>(rate, seed);
  d->build({4, 5, 16});
  Rng rng(model_seed);
  d->initialize(rng);
  d->reserve(batch);
  return d;
}

}  // namespace

TEST_CASE("SpatialDropout2D is the identity in inference", "[layers][spatialdropout]") {
  auto owner = built(0.5, std::nullopt, 3);
  SpatialDropout2D& d = *owner;
  const std::vector<float> x = random_vector(3 * 4 * 5 * 16, 2);
  CHECK(run(d, x, 3, false) == x);
  std::vector<float> dx(x.size());
  d.backward(x.data(), x.data(), x.data(), dx.data(), 3);
  CHECK(dx == x);
}

TEST_CASE("SpatialDropout2D drops whole channels and scales the kept ones",
          "[layers][spatialdropout]") {
  const int64_t batch = 32;
  auto owner = built(0.25, std::nullopt, batch);
  SpatialDropout2D& d = *owner;
  std::vector<float> x(static_cast<size_t>(batch * 4 * 5 * 16), 1.0f);
  const std::vector<float> y = run(d, x, batch, true);
  int64_t kept = 0;
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t c = 0; c < 16; ++c) {
      const bool on = d.mask()[static_cast<size_t>(b * 16 + c)] != 0;
      kept += on;
      for (int64_t p = 0; p < 20; ++p)
        CHECK(y[static_cast<size_t>((b * 20 + p) * 16 + c)] == (on ? 1.0f / 0.75f : 0.0f));
    }
  }
  // 512 channels kept with probability 0.75: 384 expected, sd ~10.
  CHECK(kept > 330);
  CHECK(kept < 440);
}

TEST_CASE("SpatialDropout2D masks are deterministic per seed and fresh per step",
          "[layers][spatialdropout]") {
  const std::vector<float> x = random_vector(2 * 4 * 5 * 16, 3);
  auto pa = built(0.5, 7, 2, 1), pb = built(0.5, 7, 2, 99);  // Keras's seed wins
  SpatialDropout2D &a = *pa, &b = *pb;
  const std::vector<float> a1 = run(a, x, 2, true), a2 = run(a, x, 2, true);
  CHECK(run(b, x, 2, true) == a1);
  CHECK(run(b, x, 2, true) == a2);
  CHECK(a1 != a2);
  auto c = built(0.5, 8, 2);
  CHECK(run(*c, x, 2, true) != a1);
  // Without a seed the model's stream decides: the same stream, the same masks.
  auto pu = built(0.5, std::nullopt, 2, 5), pv = built(0.5, std::nullopt, 2, 5);
  SpatialDropout2D &u = *pu, &v = *pv;
  CHECK(run(u, x, 2, true) == run(v, x, 2, true));
  // training_rngs() is the generator checkpoints save: restoring it replays the next mask.
  const auto state = u.training_rngs()[0]->state();
  const std::vector<float> next = run(u, x, 2, true);
  u.training_rngs()[0]->set_state(state);
  CHECK(run(u, x, 2, true) == next);
}

TEST_CASE("SpatialDropout2D gradients with a frozen mask", "[layers][spatialdropout][gradient]") {
  SpatialDropout2D d(0.4, 3);
  d.build({3, 3, 4});
  Rng rng(1);
  d.initialize(rng);
  d.freeze_mask(true);
  check_gradients(d, {3, 3, 4}, {.batch = 4}, false);
}

TEST_CASE("SpatialDropout2D from a config", "[layers][spatialdropout][config][errors]") {
  CHECK(layer_config_error(R"({"type": "SpatialDropout2D", "rate": 0.2, "seed": 4},
                              {"type": "Flatten"})",
                           "[4, 4, 2]") == "(no error)");
  CHECK(layer_config_error(R"({"type": "SpatialDropout2D", "rate": 1})", "[4, 4, 2]") ==
        "t.json: /model/layers/0/rate: expected a number in [0, 1), got 1.0");
  CHECK_THAT(layer_config_error(R"({"type": "SpatialDropout2D"})", "[4, 4, 2]"),
             Contains("t.json: /model/layers/0/rate: missing"));
  CHECK_THAT(layer_config_error(R"({"type": "SpatialDropout2D", "rate": 0.2})"),
             Contains("SpatialDropout2D needs an image input") && Contains("[784]"));
  CHECK_THAT(layer_config_error(R"({"type": "SpatialDropout2D", "rate": 0.2, "noise_shape": [1]})",
                                "[4, 4, 2]"),
             Contains("t.json: /model/layers/0/noise_shape: unknown key"));
}
