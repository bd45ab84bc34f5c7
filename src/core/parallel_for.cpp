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
class WorkerPool {
 public:
  explicit WorkerPool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this, i] { work(i + 1); });
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
    shares_ = shares;
    fn_ = fn;
    context_ = context;
    done_.store(0, std::memory_order_relaxed);
    // Sequentially consistent with the worker's "sleeping_ up, then re-check generation_": either
    // it sees the new generation, or we see it asleep and wake it.
    generation_.fetch_add(1, std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_seq_cst) > 0) generation_.notify_all();
    run_share(0);
    const int helpers = shares - 1;
    // The other shares are about as long as ours: spin briefly before sleeping.
    for (int spin = 0; spin < 4000 && done_.load(std::memory_order_acquire) < helpers; ++spin) {
      __builtin_ia32_pause();
    }
    for (int d = done_.load(std::memory_order_acquire); d < helpers;
         d = done_.load(std::memory_order_acquire)) {
      done_.wait(d, std::memory_order_acquire);
    }
  }

 private:
  void run_share(int share) {
    const int64_t begin = n_ * share / shares_, end = n_ * (share + 1) / shares_;
    if (begin < end) fn_(context_, begin, end);
  }

  void work(int share) {
    flush_denormals_to_zero();  // the same arithmetic as the calling thread
    uint64_t seen = 0;
    for (;;) {
      wait_for_generation_after(seen);
      seen = generation_.load(std::memory_order_acquire);
      if (stop_.load(std::memory_order_relaxed)) return;
      if (share < shares_) {
        run_share(share);
        done_.fetch_add(1, std::memory_order_release);
        done_.notify_one();
      }
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
  std::atomic<int> sleeping_{0};
  std::atomic<int> done_{0};
  std::atomic<bool> stop_{false};
  int64_t n_ = 0;
  int shares_ = 1;
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
