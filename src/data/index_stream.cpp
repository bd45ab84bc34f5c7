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
  rng_ = Rng(
      Rng::derive(spec_.seed, static_cast<uint64_t>(spec_.reshuffle_each_iteration ? pass : 0)));
  const auto count = static_cast<uint32_t>(spec_.count);
  live_ = std::min(static_cast<uint32_t>(buffer_.size()), count);
  for (uint32_t i = 0; i < live_; ++i) buffer_[i] = i;
  next_input_ = live_;
}

uint32_t IndexStream::next_index() {
  // With one live slot there is nothing to choose: skip the generator (keeps B <= 1 cheap).
  const uint32_t slot = live_ == 1 ? 0 : static_cast<uint32_t>(rng_.below(live_));
  const uint32_t index = buffer_[slot];
  if (next_input_ < static_cast<uint32_t>(spec_.count)) {
    buffer_[slot] = next_input_++;
  } else {
    buffer_[slot] = buffer_[--live_];
  }
  return index;
}

size_t IndexStream::fill(std::span<uint32_t> out) {
  size_t written = 0;
  while (written < out.size()) {
    if (live_ == 0) {  // this pass is done
      if (!spec_.repeat || spec_.count == 0) break;
      start_pass(pass_ + 1);
    }
    out[written++] = next_index();
  }
  emitted_ += static_cast<int64_t>(written);
  return written;
}

int64_t IndexStream::skip(int64_t n) {
  int64_t done = 0;
  while (done < n) {
    if (live_ == 0) {
      if (!spec_.repeat || spec_.count == 0) break;
      start_pass(pass_ + 1);
    }
    next_index();
    ++done;
  }
  emitted_ += done;
  return done;
}

IndexStreamState IndexStream::state() const {
  IndexStreamState s;
  s.pass = pass_;
  s.next_input = next_input_;
  s.rng = rng_.state();
  s.buffer.assign(buffer_.begin(), buffer_.begin() + live_);
  s.emitted = emitted_;
  return s;
}

void IndexStream::restore(const IndexStreamState& s) {
  auto bad = [](const std::string& what) { throw std::invalid_argument("IndexStream: " + what); };
  const auto count = static_cast<uint32_t>(spec_.count);
  if (s.pass < 0) bad("negative pass " + std::to_string(s.pass));
  if (s.emitted < 0) bad("negative stream position " + std::to_string(s.emitted));
  if (s.buffer.size() > buffer_.size())
    bad("a shuffle buffer of " + std::to_string(s.buffer.size()) + " entries, the spec has " +
        std::to_string(buffer_.size()) + " slots");
  if (s.next_input > count)
    bad("next input " + std::to_string(s.next_input) + " beyond " + std::to_string(count) +
        " examples");
  if (s.next_input < s.buffer.size()) bad("more buffered entries than inputs read");
  for (const uint32_t index : s.buffer)
    if (index >= s.next_input) bad("buffered index " + std::to_string(index) + " not read yet");
  // A pass in progress keeps its buffer full until the input runs out.
  if (s.next_input < count && s.buffer.size() != std::min<size_t>(buffer_.size(), count))
    bad("a partly filled shuffle buffer before the end of the pass");
  rng_.set_state(s.rng);
  pass_ = s.pass;
  next_input_ = s.next_input;
  emitted_ = s.emitted;
  live_ = static_cast<uint32_t>(s.buffer.size());
  std::copy(s.buffer.begin(), s.buffer.end(), buffer_.begin());
}

}  // namespace mnistnet
