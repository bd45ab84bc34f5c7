#pragma once
// A small deterministic random generator (xoshiro256**, seeded through splitmix64).
// We use our own instead of <random>'s distributions because those are implementation-defined:
// the same seed must give the same weights and the same batches with any standard library.
#include <array>
#include <bit>
#include <cstdint>

namespace mnistnet {

class Rng {
 public:
  explicit Rng(uint64_t seed);

  // Inline: Dropout draws one per activation, and a call per draw was most of its time.
  uint64_t next_u64() {
    const uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = std::rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n), without modulo bias.
  uint64_t below(uint64_t n);
  // Uniform float in [0, 1) with 24 random bits.
  float uniform() { return static_cast<float>(uniform_bits()) * 0x1.0p-24f; }
  // The 24 bits uniform() scales to [0, 1): uniform() >= x exactly when uniform_bits() >=
  // ceil(x * 2^24), so a threshold test needs no float.
  uint32_t uniform_bits() { return static_cast<uint32_t>(next_u64() >> 40); }
  // Standard normal (Box-Muller).
  double normal();

  // A seed for an independent stream, e.g. per layer or per pass.
  static uint64_t derive(uint64_t seed, uint64_t stream);

  // The whole generator state, for checkpoints: set_state(state()) continues the same
  // sequence. set_state rejects the all-zero state (xoshiro's one fixed point) with
  // std::invalid_argument.
  using State = std::array<uint64_t, 4>;
  State state() const { return {s_[0], s_[1], s_[2], s_[3]}; }
  void set_state(const State& state);

 private:
  uint64_t s_[4];
};

}  // namespace mnistnet
