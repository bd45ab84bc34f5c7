#pragma once
// Runs a producer function on a background thread, ahead of a single consumer, over a fixed
// ring of `slots` caller-owned buffers: the producer fills slot k % slots for the k-th item,
// so the consumer sees items in production order whatever the thread timing, and nothing is
// allocated per item.
//
//   PrefetchQueue q(4, [&](int slot) { return fill_batch(buffers[slot]); });
//   for (int slot; (slot = q.next()) >= 0;) use(buffers[slot]);  // slot valid until next()
//
// The producer may run up to `slots` items ahead of the consumer's last release: the slot the
// consumer holds, the one being filled, and slots-2 ready ones. The handoff is a mutex and two
// condition variables, touched once per item.
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace mnistnet {

class PrefetchQueue {
 public:
  // fill(slot) writes one item into buffer `slot` (0..slots-1) and returns true, or returns
  // false when there is nothing more to produce. It runs on the background thread, which
  // starts here. slots >= 2 (std::invalid_argument otherwise).
  PrefetchQueue(int slots, std::function<bool(int slot)> fill);
  // Stops the producer (waking it if it waits for a free slot), lets an in-progress fill
  // finish, and joins the thread. Items not consumed are dropped.
  ~PrefetchQueue();
  PrefetchQueue(const PrefetchQueue&) = delete;
  PrefetchQueue& operator=(const PrefetchQueue&) = delete;

  // Releases the slot returned by the previous call, waits for the next item and returns its
  // slot; -1 once the producer has finished. If fill threw, the items before it are returned
  // first and then every further call rethrows that exception.
  int next();

 private:
  void run();

  const int slots_;
  std::function<bool(int)> fill_;

  std::mutex mutex_;
  std::condition_variable item_ready_;  // producer -> consumer
  std::condition_variable slot_free_;   // consumer (and destructor) -> producer
  // Guarded by mutex_:
  int64_t published_ = 0;  // items filled so far
  int64_t released_ = 0;   // items the consumer is done with
  bool finished_ = false;  // the producer will publish nothing more
  bool stop_ = false;      // the destructor asks the producer to quit
  std::exception_ptr error_;
  // Consumer only:
  int64_t taken_ = 0;  // items handed out by next()

  std::thread thread_;  // last: started once everything above is initialised
};

}  // namespace mnistnet
