#pragma once
// Splits a loop over the machine's cores: the calling thread takes one share, a small pool of
// persistent workers the others. Every multi-core part of the engine runs on it: the
// convolution kernels, GEMMs split by columns (OpenBLAS itself is single-threaded), batch norm,
// the element-wise layers and the optimizer.
//
//   parallel_for(rows, [&](int64_t begin, int64_t end) { for (r = begin; r < end; ++r) ... });
//
// Shares are contiguous, fixed by n and the worker count alone, so results never depend on
// thread timing; the caller and the workers claim them in turn, so a worker that is descheduled
// or still waking up does not hold the caller back. Calls do not allocate. Not reentrant: do not
// call it from inside a body.
#include <cstdint>
#include <type_traits>
#include <utility>

namespace mnistnet {

namespace detail {
using RangeFn = void (*)(void* context, int64_t begin, int64_t end);
void parallel_for_impl(int64_t n, int64_t min_per_thread, RangeFn fn, void* context);
}  // namespace detail

// Below min_per_thread items per share the loop runs on the calling thread alone.
template <class Body>
void parallel_for(int64_t n, Body&& body, int64_t min_per_thread = 1) {
  using B = std::remove_reference_t<Body>;
  detail::parallel_for_impl(
      n, min_per_thread,
      [](void* context, int64_t begin, int64_t end) { (*static_cast<B*>(context))(begin, end); },
      const_cast<void*>(static_cast<const void*>(&body)));
}

// Work per share below which waking a worker costs more than it saves (a wake-up, or a worker
// descheduled on a loaded machine, costs tens of microseconds): about 20 us of one core's
// multiply-adds. It keeps the small ops of a batch-1 inference on the calling thread.
inline constexpr int64_t kMinWorkPerShare = int64_t{1} << 21;

// Shares of a loop whose items are separate outputs (no sums across items, so the split never
// changes a result) can be smaller: a worker that is spinning between the calls of a pass picks
// one up in well under a microsecond. At batch 1 the convolutions of conv_bn and resnet are
// 0.1 to 2 million multiply-adds each, all below kMinWorkPerShare: with this, two cores run them
// (2-core AMD EPYC family 26: batch-1 conv_bn 0.103 -> 0.089 ms, resnet 0.257 -> 0.162 ms).
inline constexpr int64_t kMinOutputWorkPerShare = int64_t{1} << 17;

// parallel_for over items that each cost about work_per_item multiply-adds: shares get at least
// min_work_per_share of work.
template <class Body>
void parallel_for_work(int64_t n, int64_t work_per_item, Body&& body,
                       int64_t min_work_per_share = kMinWorkPerShare) {
  const int64_t per_item = work_per_item > 0 ? work_per_item : 1;
  parallel_for(n, std::forward<Body>(body), (min_work_per_share + per_item - 1) / per_item);
}

// Number of threads parallel_for (and so every multi-core kernel and GEMM) uses, the caller
// included: all cores unless set_parallel_threads() asked for fewer.
int parallel_threads();
// Caps the threads at `threads` (0 or more than the cores: all cores). For running several
// trainings side by side (config "training.threads", bench --threads).
void set_parallel_threads(int threads);

}  // namespace mnistnet
