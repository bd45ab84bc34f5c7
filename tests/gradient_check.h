#pragma once
// The one finite-difference gradient checker every layer test uses (after Caffe's
// GradientChecker). The scalar checked is L = sum(y .* r) for a fixed random r, so dL/dy = r.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/rng.h"
#include "layers/layer.h"

namespace mnistnet::testing {

struct GradientCheckOptions {
  int64_t batch = 3;
  float step = 1e-2f;        // central difference step
  double tolerance = 2e-2;   // relative, scaled by max(|numeric|, |analytic|, 1)
  double kink = 0.0;         // skip inputs within kink_range of this value (ReLU, max-pool)
  double kink_range = -1.0;  // < 0: no kink window
  bool training = true;
  uint64_t seed = 7;
};

inline std::vector<float> random_vector(int64_t n, uint64_t seed, float scale = 1.0f) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = (2.0f * rng.uniform() - 1.0f) * scale;
  return v;
}

// Builds `layer` for input_shape (if not built yet by the caller: pass build=true),
// initialises its weights, and compares analytic with numeric gradients of the input and of
// every trainable parameter.
inline void check_gradients(Layer& layer, const Shape& input_shape, GradientCheckOptions o = {},
                            bool build = true) {
  Shape out_shape = input_shape;
  if (build) {
    out_shape = layer.build(input_shape);
    Rng init(o.seed + 1);
    layer.initialize(init);
  }
  const int64_t in_n = element_count(input_shape) * o.batch;
  // When the caller built the layer, ask it again for the output shape (build is idempotent).
  if (!build) out_shape = layer.build(input_shape);
  const int64_t out_n = element_count(out_shape) * o.batch;
  layer.reserve(o.batch);

  std::vector<float> x = random_vector(in_n, o.seed + 2);
  const std::vector<float> r = random_vector(out_n, o.seed + 3);
  std::vector<float> y(static_cast<size_t>(out_n)), dx(static_cast<size_t>(in_n));

  auto loss = [&] {
    layer.forward(x.data(), y.data(), o.batch, o.training);
    double l = 0.0;
    for (size_t i = 0; i < y.size(); ++i) l += static_cast<double>(y[i]) * r[i];
    return l;
  };
  loss();
  layer.backward(x.data(), y.data(), r.data(), dx.data(), o.batch);

  auto compare = [&](const std::string& what, float* value, double analytic, size_t i) {
    const float saved = *value;
    *value = saved + o.step;
    const double plus = loss();
    *value = saved - o.step;
    const double minus = loss();
    *value = saved;
    const double numeric = (plus - minus) / (2.0 * static_cast<double>(o.step));
    const double scale = std::max({std::abs(numeric), std::abs(analytic), 1.0});
    INFO(what << "[" << i << "]: analytic " << analytic << ", numeric " << numeric);
    CHECK(std::abs(numeric - analytic) <= o.tolerance * scale);
  };

  for (size_t i = 0; i < x.size(); ++i) {
    if (o.kink_range >= 0.0 && std::abs(x[i] - o.kink) < o.kink_range) continue;
    compare("input", &x[i], dx[i], i);
  }
  // Parameter gradients were written by the backward above; copy them before perturbing.
  for (ParamRef& p : layer.params()) {
    if (!p.trainable) continue;
    const std::vector<float> analytic(p.grad, p.grad + p.size());
    for (size_t i = 0; i < analytic.size(); ++i) compare(p.name, p.value + i, analytic[i], i);
  }
}

}  // namespace mnistnet::testing
