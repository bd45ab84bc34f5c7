#include "core/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "core/denormals.h"

namespace mnistnet {
namespace {

// Persistent workers woken through one generation counter, so a parallel_for costs a wake-up,
// not a thread start. A worker that finished a share spins on the counter for a while before it
// sleeps (C++20 atomic wait, a futex on Linux), as OpenMP runtimes do: a training step makes
// dozens of calls a few microseconds apart, and a futex wake-up of a sleeping thread cost more
// than the short ones save. The caller only makes the wake-up system call when a worker sleeps.
//
// Shares are claimed, not assigned: the caller and the workers take the next unclaimed share
// from one atomic word until none is left. The share boundaries depend only on n and the share
// count, so results never depend on who ran what; but a worker that is descheduled (a loaded
// machine) or still waking up no longer holds the caller back: the caller runs its share. The
// caller only waits for shares a worker has already started.
class WorkerPool {
 public:
  explicit WorkerPool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
  }
  ~WorkerPool() {
    stop_.store(true, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    for (auto& t : threads_) t.join();
  }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int threads() const { return static_cast<int>(threads_.size()) + 1; }

  void run(int64_t n, int shares, detail::RangeFn fn, void* context) {
    n_ = n;
    fn_ = fn;
    context_ = context;
    done_.store(0, std::memory_order_relaxed);
    // The call's claim word: its number in the high bits, the next share in the low ones. A
    // worker that wakes late for an earlier call finds that call's number gone and claims nothing.
    const uint64_t call = ++calls_;  // 32 bits that wrap, as the claim word holds them
    claims_.store(call << kCallShift | static_cast<uint64_t>(shares) << kShareBits,
                  std::memory_order_release);
    // Sequentially consistent with the worker's "sleeping_ up, then re-check generation_": either
    // it sees the new generation, or we see it asleep and wake it.
    generation_.fetch_add(1, std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_seq_cst) > 0) generation_.notify_all();
    run_claimed_shares(call);
    // Only shares a worker has started are left: they are about as long as ours, spin briefly.
    for (int spin = 0; spin < 4000 && done_.load(std::memory_order_acquire) < shares; ++spin) {
      __builtin_ia32_pause();
    }
    for (int d = done_.load(std::memory_order_acquire); d < shares;
         d = done_.load(std::memory_order_acquire)) {
      done_.wait(d, std::memory_order_acquire);
    }
  }

 private:
  // The claim word: (call << kCallShift) | (shares << kShareBits) | next unclaimed share.
  static constexpr int kShareBits = 16, kCallShift = 32;
  static constexpr uint64_t kShareMask = (uint64_t{1} << kShareBits) - 1;

  // Claims and runs shares of call `call` until none is left. n_, fn_ and context_ are read
  // only after a claim succeeded: the call cannot end (and the next one overwrite them) while a
  // claimed share has not been counted in done_.
  void run_claimed_shares(uint64_t call) {
    uint64_t word = claims_.load(std::memory_order_acquire);
    for (;;) {
      if ((word >> kCallShift) != call) return;
      const auto share = static_cast<int64_t>(word & kShareMask);
      const auto shares = static_cast<int64_t>((word >> kShareBits) & kShareMask);
      if (share >= shares) return;
      if (!claims_.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
        continue;  // another thread took it (word was reloaded): try the next one
      }
      const int64_t begin = n_ * share / shares, end = n_ * (share + 1) / shares;
      if (begin < end) fn_(context_, begin, end);
      word = claims_.load(std::memory_order_acquire);
      // The last increment may end the call: nothing of it is read after that.
      if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == shares) done_.notify_one();
    }
  }

  void work() {
    flush_denormals_to_zero();  // the same arithmetic as the calling thread
    uint64_t seen = 0;
    for (;;) {
      wait_for_generation_after(seen);
      seen = generation_.load(std::memory_order_acquire);
      if (stop_.load(std::memory_order_relaxed)) return;
      run_claimed_shares(claims_.load(std::memory_order_acquire) >> kCallShift);
    }
  }

  void wait_for_generation_after(uint64_t seen) {
    const auto give_up = std::chrono::steady_clock::now() + kSpinBeforeSleeping;
    for (int spin = 1;; ++spin) {
      if (generation_.load(std::memory_order_acquire) != seen) return;
      __builtin_ia32_pause();
      if (spin % 256 == 0 && std::chrono::steady_clock::now() > give_up) break;
    }
    sleeping_.fetch_add(1, std::memory_order_seq_cst);
    generation_.wait(seen, std::memory_order_seq_cst);
    sleeping_.fetch_sub(1, std::memory_order_relaxed);
  }

  // Longer than the gaps between the calls of a training step (the loss, small single-threaded
  // layers), much shorter than anything a user would see as a busy core.
  static constexpr std::chrono::microseconds kSpinBeforeSleeping{300};

  std::vector<std::thread> threads_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint64_t> claims_{0};
  std::atomic<int> sleeping_{0};
  std::atomic<int> done_{0};
  std::atomic<bool> stop_{false};
  uint32_t calls_ = 0;  // the caller's count of calls, the claim word's high bits (wraps)
  int64_t n_ = 0;
  detail::RangeFn fn_ = nullptr;
  void* context_ = nullptr;
};

// The machine's cores, or MNISTNET_THREADS when set (as OPENBLAS_NUM_THREADS is for OpenBLAS):
// `mnistnet sweep` runs N trials at once with CPUs / N threads each.
int pool_threads() {
  if (const char* env = std::getenv("MNISTNET_THREADS")) {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

WorkerPool& pool() {
  // One pool for the process, like OpenBLAS's own: its size is fixed at first use.
  static WorkerPool instance(pool_threads() - 1);
  return instance;
}

std::atomic<int> thread_cap{0};  // set_parallel_threads(); 0: all of the pool

}  // namespace

int parallel_threads() {
  const int cap = thread_cap.load(std::memory_order_relaxed);
  return cap > 0 ? std::min(cap, pool().threads()) : pool().threads();
}

void set_parallel_threads(int threads) {
  thread_cap.store(std::max(threads, 0), std::memory_order_relaxed);
}

namespace detail {

void parallel_for_impl(int64_t n, int64_t min_per_thread, RangeFn fn, void* context) {
  if (n <= 0) return;
  WorkerPool& p = pool();
  const int64_t useful = std::max<int64_t>(1, n / std::max<int64_t>(min_per_thread, 1));
  const int shares = static_cast<int>(std::min<int64_t>(parallel_threads(), useful));
  if (shares <= 1) {
    fn(context, 0, n);
    return;
  }
  p.run(n, shares, fn, context);
}

}  // namespace detail
}  // namespace mnistnet
