#pragma once
// Internal to the convolution kernels: what the dispatcher (conv_kernels.cpp), the per-ISA
// builds of conv_kernels_impl.h and the tests share. Packed layouts depend on the engine's
// instruction set only (filter_lanes), not on the table that runs: every table computes on the
// same buffers, which is how the tests compare them.
#include <algorithm>
#include <cstdint>

#include "core/cpu_info.h"
#include "layers/conv_kernels.h"

namespace mnistnet::conv_kernels {

// Filters (and the input gradient's channels) are padded to whole vectors of 16 lanes when 16
// divides them, or when the engine runs AVX-512 and there are more than 8: there 24 filters take
// two 16-lane multiply-adds where 8-lane vectors take three, each at half the width (conv's
// 6x6x12 -> 24 layer ran at half the machine's peak). Else 8 lanes (AVX2's registers hold 8
// floats). Each output is still one chain of multiply-adds in the same order, whatever the
// lanes, so the choice changes no bits. Fixed for the process: it follows engine_isa().
int filter_lanes(int64_t filters);
// The input gradient reads dy transposed per output row, [B, Ho, F, dy_width]: dy_left zero
// columns, the Wo columns of dy, then zero columns up to the last one an input pixel reaches.
inline int64_t dy_left(const Geometry& g) { return (g.kernel_w - 1) / g.stride_w; }
inline int64_t dy_width(const Geometry& g) {
  const int64_t last = (g.pad_left + g.in_w - 1) / g.stride_w;  // the last column reached
  return dy_left(g) + std::max(g.out_w, last + 1);
}

// Filters are processed in blocks of at most 64 (one register tile wide).
inline constexpr int64_t kFilterBlock = 64;
// Calls body(f0, width) for each block of padded filters.
template <class Body>
void for_each_filter_block(const Geometry& g, Body&& body) {
  const int64_t fp = g.padded_filters();
  for (int64_t f0 = 0; f0 < fp; f0 += kFilterBlock) body(f0, std::min(kFilterBlock, fp - f0));
}

// The dispatched kernels, with the signatures of conv_kernels.h.
struct KernelTable {
  void (*forward)(const Geometry& g, const float* padded, int64_t batch, const float* packed_kernel,
                  const float* bias, bool relu, float* y);
  void (*kernel_gradient)(const Geometry& g, const float* padded, const float* dy, int64_t batch,
                          float* dy_scratch, float* packed_grad);
  void (*input_gradient)(const Geometry& g, const float* dy, int64_t batch,
                         const float* packed_transposed, float* dy_transposed, float* dx);
};

namespace avx512 {
extern const KernelTable kTable;
}
namespace avx2 {
extern const KernelTable kTable;
}
namespace baseline {
extern const KernelTable kTable;
}

// The kernels compiled for `isa` (the caller makes sure the CPU runs it).
const KernelTable& kernel_table(Isa isa);

}  // namespace mnistnet::conv_kernels
