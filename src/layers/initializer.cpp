#include "layers/initializer.h"

#include <cmath>
#include <stdexcept>

namespace mnistnet {

Initializer initializer_from_name(const std::string& name) {
  if (name == "glorot_uniform") return Initializer::glorot_uniform;
  if (name == "glorot_normal") return Initializer::glorot_normal;
  if (name == "he_normal") return Initializer::he_normal;
  if (name == "he_uniform") return Initializer::he_uniform;
  if (name == "zeros") return Initializer::zeros;
  if (name == "ones") return Initializer::ones;
  throw std::invalid_argument("unknown initializer " + name);
}

namespace {

// Keras's *_normal initialisers draw from a normal truncated at two standard deviations and
// divide by this constant (the truncated distribution's standard deviation) to keep the variance.
constexpr double kTruncatedStddev = 0.87962566103423978;

void fill_uniform(float* w, int64_t n, double limit, Rng& rng) {
  for (int64_t i = 0; i < n; ++i) w[i] = static_cast<float>((2.0 * rng.uniform() - 1.0) * limit);
}

void fill_truncated_normal(float* w, int64_t n, double stddev, Rng& rng) {
  for (int64_t i = 0; i < n; ++i) {
    double z;
    do {
      z = rng.normal();
    } while (std::abs(z) > 2.0);
    w[i] = static_cast<float>(z * stddev / kTruncatedStddev);
  }
}

}  // namespace

void initialize_weights(Initializer kind, float* w, int64_t n, int64_t fan_in, int64_t fan_out,
                        Rng& rng) {
  const double in = static_cast<double>(fan_in), out = static_cast<double>(fan_out);
  switch (kind) {
    case Initializer::glorot_uniform:
      fill_uniform(w, n, std::sqrt(6.0 / (in + out)), rng);
      break;
    case Initializer::glorot_normal:
      fill_truncated_normal(w, n, std::sqrt(2.0 / (in + out)), rng);
      break;
    case Initializer::he_normal:
      fill_truncated_normal(w, n, std::sqrt(2.0 / in), rng);
      break;
    case Initializer::he_uniform:
      fill_uniform(w, n, std::sqrt(6.0 / in), rng);
      break;
    case Initializer::zeros:
      std::fill(w, w + n, 0.0f);
      break;
    case Initializer::ones:
      std::fill(w, w + n, 1.0f);
      break;
  }
}

}  // namespace mnistnet
