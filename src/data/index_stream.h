#pragma once
// The order in which a pipeline visits examples: a stream of example indices in [0, count),
// one pass over the data after another, with tf.data's shuffle-buffer semantics.
//
// Shuffling (buffer B > 1) works like tf.data's Dataset.shuffle(B): fill a buffer with the
// first B indices of the pass; then repeatedly emit a uniformly random slot and put the next
// input index in its place; once the input is used up, emit the rest in random order. So an
// index i >= B enters the buffer only after i-B+1 outputs and is never emitted before output
// position i-B+1 (a local shuffle); B >= count gives a uniform random permutation; B <= 1
// leaves the order 0..count-1.
//
// Each pass is a permutation of all indices. Pass p uses a generator seeded from (seed, p), or
// from (seed, 0) for every pass when reshuffle_each_iteration is false (same order each pass).
#include <cstdint>
#include <span>
#include <vector>

#include "core/rng.h"

namespace mnistnet {

// Where a stream stands, for checkpoints: restore(state()) continues with exactly the indices
// the original would have produced next.
struct IndexStreamState {
  int64_t pass = 0;
  uint32_t next_input = 0;       // next index of the pass to enter the buffer
  Rng::State rng{};              // the pass's generator
  std::vector<uint32_t> buffer;  // the live slots of the shuffle buffer, in slot order
  int64_t emitted = 0;           // indices produced since the stream began (augmentation keys)
};

struct IndexStreamSpec {
  int64_t count = 0;           // examples, 0..2^31
  int64_t shuffle_buffer = 0;  // 0 or 1: no shuffle; >= count: full permutation
  bool reshuffle_each_iteration = true;
  bool repeat = false;  // false: one pass, then the stream ends
  uint64_t seed = 0;
};

class IndexStream {
 public:
  explicit IndexStream(const IndexStreamSpec& spec);  // std::invalid_argument for a bad spec

  // Writes the next indices into out; returns how many, fewer than out.size() only when the
  // stream has ended (no repeat, or count == 0). With repeat, out may span two passes.
  size_t fill(std::span<uint32_t> out);

  // The pass the last index written belongs to (0-based; 0 before the first fill).
  int64_t pass() const { return pass_; }
  // Indices produced (written or skipped) since the stream began, resumed ones included: the
  // stream position of the next index.
  int64_t emitted() const { return emitted_; }

  // Advances as n calls of fill() on single indices would, without writing them; returns how
  // many indices it passed (fewer than n only when the stream ended).
  int64_t skip(int64_t n);

  IndexStreamState state() const;
  // Continues from a state of a stream with the same spec. std::invalid_argument when the
  // state cannot belong to this spec (buffer larger than the spec's, indices out of range).
  void restore(const IndexStreamState& state);

 private:
  void start_pass(int64_t pass);
  uint32_t next_index();  // one step of the shuffle buffer; live_ > 0

  IndexStreamSpec spec_;
  std::vector<uint32_t> buffer_;  // [min(shuffle_buffer, count)] reserved once
  uint32_t live_ = 0;             // occupied slots at the front of buffer_
  uint32_t next_input_ = 0;       // next index of this pass to enter the buffer
  int64_t pass_ = 0;
  int64_t emitted_ = 0;
  Rng rng_{0};
};

}  // namespace mnistnet
