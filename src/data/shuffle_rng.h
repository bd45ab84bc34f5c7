#pragma once
// The pipeline's own small random number generator: xoshiro256** seeded through splitmix64, with
// Lemire's unbiased bounded-integer mapping. Written out here (instead of std::mt19937 +
// std::uniform_int_distribution) because the distributions' output is implementation-defined:
// the same seed must give the same shuffle with every standard library.
#include <bit>
#include <cstdint>

namespace mnistnet {

class ShuffleRng {
 public:
  // One splitmix64 step: advances `state` and returns a well-mixed 64-bit value.
  static uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  explicit ShuffleRng(uint64_t seed) {
    // splitmix64 never yields four zero words from one seed, so the state is valid.
    for (auto& word : s_) word = splitmix64(seed);
  }

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

  // Uniform integer in [0, n), n >= 1, without modulo bias (Lemire 2019, 32-bit variant:
  // the high half of a 32x32->64 product, rejecting the few low halves that would bias it).
  uint32_t below(uint32_t n) {
    uint64_t m = uint64_t{next_u32()} * n;
    auto low = static_cast<uint32_t>(m);
    if (low < n) {
      const uint32_t threshold = (0u - n) % n;  // 2^32 mod n
      while (low < threshold) {
        m = uint64_t{next_u32()} * n;
        low = static_cast<uint32_t>(m);
      }
    }
    return static_cast<uint32_t>(m >> 32);
  }

 private:
  uint32_t next_u32() { return static_cast<uint32_t>(next_u64() >> 32); }

  uint64_t s_[4];
};

}  // namespace mnistnet
