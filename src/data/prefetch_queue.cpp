// Background producer with an in-order slot ring (see prefetch_queue.h).
#include "data/prefetch_queue.h"

#include <stdexcept>
#include <string>
#include <utility>

namespace mnistnet {

PrefetchQueue::PrefetchQueue(int slots, std::function<bool(int slot)> fill)
    : slots_(slots), fill_(std::move(fill)) {
  if (slots < 2) {
    throw std::invalid_argument("PrefetchQueue: " + std::to_string(slots) +
                                " slots, need at least 2");
  }
  thread_ = std::thread([this] { run(); });
}

PrefetchQueue::~PrefetchQueue() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  slot_free_.notify_one();
  thread_.join();
}

void PrefetchQueue::run() {
  try {
    for (int64_t item = 0;; ++item) {
      {
        // Slot item % slots_ last held item - slots_, which must have been released.
        std::unique_lock lock(mutex_);
        slot_free_.wait(lock, [&] { return stop_ || item - released_ < slots_; });
        if (stop_) return;
      }
      const bool more = fill_(static_cast<int>(item % slots_));  // unlocked: the slow part
      {
        std::lock_guard lock(mutex_);
        if (more) {
          published_ = item + 1;
        } else {
          finished_ = true;
        }
      }
      item_ready_.notify_one();
      if (!more) return;
    }
  } catch (...) {
    {
      std::lock_guard lock(mutex_);
      error_ = std::current_exception();
      finished_ = true;
    }
    item_ready_.notify_one();
  }
}

int PrefetchQueue::next() {
  std::unique_lock lock(mutex_);
  if (taken_ > released_) {
    released_ = taken_;
    slot_free_.notify_one();
  }
  item_ready_.wait(lock, [&] { return published_ > taken_ || finished_; });
  if (published_ > taken_) return static_cast<int>(taken_++ % slots_);
  if (error_) std::rethrow_exception(error_);
  return -1;
}

}  // namespace mnistnet
