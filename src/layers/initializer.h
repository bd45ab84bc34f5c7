#pragma once
// Keras weight initialisers.
#include <cstdint>
#include <string>

#include "core/rng.h"

namespace mnistnet {

enum class Initializer { glorot_uniform, glorot_normal, he_normal, he_uniform, zeros, ones };

// The names accepted in configs, as Keras spells them.
#define MNISTNET_INITIALIZER_NAMES \
  "glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "zeros", "ones"

Initializer initializer_from_name(const std::string& name);

// Fills w[0..n) for a weight tensor with the given fan-in and fan-out.
void initialize_weights(Initializer kind, float* w, int64_t n, int64_t fan_in, int64_t fan_out,
                        Rng& rng);

}  // namespace mnistnet
