// Shuffle-buffer index stream (see index_stream.h for the semantics).
#include "data/index_stream.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace mnistnet {

IndexStream::IndexStream(const IndexStreamSpec& spec) : spec_(spec) {
  if (spec.count < 0 || spec.count > (int64_t{1} << 31)) {
    throw std::invalid_argument("IndexStream: count " + std::to_string(spec.count) +
                                " outside 0..2^31");
  }
  if (spec.shuffle_buffer < 0) {
    throw std::invalid_argument("IndexStream: negative shuffle buffer " +
                                std::to_string(spec.shuffle_buffer));
  }
  // A buffer of one slot emits its only element each time: the same as no shuffle.
  const int64_t slots = std::max<int64_t>(1, std::min(spec.shuffle_buffer, spec.count));
  buffer_.resize(static_cast<size_t>(slots));
  start_pass(0);
}

void IndexStream::start_pass(int64_t pass) {
  pass_ = pass;
  // Each pass draws from its own stream derived from (seed, pass), so passes are unrelated.
  rng_ = Rng(Rng::derive(spec_.seed, static_cast<uint64_t>(spec_.reshuffle_each_iteration ? pass : 0)));
  const auto count = static_cast<uint32_t>(spec_.count);
  live_ = std::min(static_cast<uint32_t>(buffer_.size()), count);
  for (uint32_t i = 0; i < live_; ++i) buffer_[i] = i;
  next_input_ = live_;
}

size_t IndexStream::fill(std::span<uint32_t> out) {
  const auto count = static_cast<uint32_t>(spec_.count);
  size_t written = 0;
  while (written < out.size()) {
    if (live_ == 0) {  // this pass is done
      if (!spec_.repeat || count == 0) break;
      start_pass(pass_ + 1);
    }
    // With one live slot there is nothing to choose: skip the generator (keeps B <= 1 cheap).
    const uint32_t slot = live_ == 1 ? 0 : static_cast<uint32_t>(rng_.below(live_));
    out[written++] = buffer_[slot];
    if (next_input_ < count) {
      buffer_[slot] = next_input_++;
    } else {
      buffer_[slot] = buffer_[--live_];
    }
  }
  return written;
}

}  // namespace mnistnet
