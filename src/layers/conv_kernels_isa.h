#pragma once
// Internal to the convolution kernels: what the dispatcher (conv_kernels.cpp), the per-ISA
// builds of conv_kernels_impl.h and the tests share. Packed layouts do not depend on the
// instruction set, so a model's buffers are the same whichever kernels run.
#include <algorithm>
#include <cstdint>

#include "core/cpu_info.h"
#include "layers/conv_kernels.h"

namespace mnistnet::conv_kernels {

// Filters are padded to whole vectors: 16 lanes when they divide, else 8 (24 or 12 filters).
inline int filter_lanes(int64_t filters) { return filters % 16 == 0 ? 16 : 8; }
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
