#pragma once
// A small deterministic random generator (xoshiro256**, seeded through splitmix64).
// We use our own instead of <random>'s distributions because those are implementation-defined:
// the same seed must give the same weights and the same batches with any standard library.
#include <array>
#include <cstdint>

namespace mnistnet {

class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t next_u64();
  // Uniform in [0, n), without modulo bias.
  uint64_t below(uint64_t n);
  // Uniform float in [0, 1) with 24 random bits.
  float uniform();
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
