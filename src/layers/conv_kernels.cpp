#include "layers/conv_kernels.h"

#include <algorithm>
#include <cstring>

#include "core/cpu_dispatch.h"
#include "core/parallel_for.h"
#include "layers/conv_kernels_isa.h"

namespace mnistnet::conv_kernels {
namespace {

// The kernels for the instruction set the engine runs (chosen once, core/cpu_dispatch.h).
const KernelTable& active() {
  static const KernelTable& table = kernel_table(engine_isa());
  return table;
}

}  // namespace

int filter_lanes(int64_t filters) {
  static const bool wide = engine_isa() == Isa::avx512;
  return filters % 16 == 0 || (wide && filters > 8) ? 16 : 8;
}

const KernelTable& kernel_table(Isa isa) {
  switch (isa) {
    case Isa::avx512:
      return avx512::kTable;
    case Isa::avx2:
      return avx2::kTable;
    case Isa::baseline:
      break;
  }
  return baseline::kTable;
}

int64_t Geometry::padded_filters() const {
  const int64_t lanes = filter_lanes(filters);
  return (filters + lanes - 1) / lanes * lanes;
}
int64_t Geometry::packed_kernel_size() const { return patch() * padded_filters(); }
int64_t Geometry::padded_channels() const {
  const int64_t lanes = filter_lanes(in_c);
  return (in_c + lanes - 1) / lanes * lanes;
}
int64_t Geometry::packed_transposed_size() const {
  return kernel_h * kernel_w * filters * padded_channels();
}
int64_t Geometry::transposed_dy_size(int64_t batch) const {
  return batch * out_h * filters * dy_width(*this) + kSlack;
}
int64_t Geometry::padded_dy_size(int64_t batch) const {
  return filters % filter_lanes(filters) == 0 ? 0 : batch * pixels() * padded_filters();
}

void pad_input(const Geometry& g, const float* x, int64_t batch, float* padded) {
  const int64_t row = g.in_w * g.in_c;
  parallel_for(batch, [&](int64_t first, int64_t last) {
    // One pass: each float is either copied or zeroed (the border and the slack).
    const int64_t padded_row = g.row_stride(), left = g.pad_left * g.in_c;
    for (int64_t b = first; b < last; ++b) {
      float* image = padded + b * g.image_stride();
      float* const image_end = image + g.image_stride();
      float* out = std::fill_n(image, g.pad_top * padded_row, 0.0f);
      for (int64_t iy = 0; iy < g.in_h; ++iy, out += padded_row) {
        const float* src = x + (b * g.in_h + iy) * row;
        std::fill_n(out, left, 0.0f);
        std::copy(src, src + row, out + left);
        std::fill(out + left + row, out + padded_row, 0.0f);
      }
      std::fill(out, image_end, 0.0f);
    }
  });
}

void pack_kernel(const Geometry& g, const float* kernel, float* packed) {
  const int64_t k_size = g.patch();
  for_each_filter_block(g, [&](int64_t f0, int64_t width) {
    float* block = packed + k_size * f0;
    for (int64_t k = 0; k < k_size; ++k)
      for (int64_t f = 0; f < width; ++f)
        block[k * width + f] = f0 + f < g.filters ? kernel[k * g.filters + f0 + f] : 0.0f;
  });
}

void unpack_kernel(const Geometry& g, const float* packed, float* kernel) {
  const int64_t k_size = g.patch();
  for_each_filter_block(g, [&](int64_t f0, int64_t width) {
    const float* block = packed + k_size * f0;
    const int64_t valid = std::min(width, g.filters - f0);
    for (int64_t k = 0; k < k_size; ++k)
      std::copy(block + k * width, block + k * width + valid, kernel + k * g.filters + f0);
  });
}

void pack_transposed_kernel(const Geometry& g, const float* kernel, float* packed) {
  // [kh*kw, Cin, F] -> [kh*kw, F, padded_channels]
  const int64_t cp = g.padded_channels(), taps = g.kernel_h * g.kernel_w;
  for (int64_t k = 0; k < taps; ++k)
    for (int64_t f = 0; f < g.filters; ++f)
      for (int64_t c = 0; c < cp; ++c)
        *packed++ = c < g.in_c ? kernel[(k * g.in_c + c) * g.filters + f] : 0.0f;
}

void forward(const Geometry& g, const float* padded, int64_t batch, const float* packed_kernel,
             const float* bias, bool relu, float* y) {
  active().forward(g, padded, batch, packed_kernel, bias, relu, y);
}

void kernel_gradient(const Geometry& g, const float* padded, const float* dy, int64_t batch,
                     float* dy_scratch, float* packed_grad) {
  active().kernel_gradient(g, padded, dy, batch, dy_scratch, packed_grad);
}

void input_gradient(const Geometry& g, const float* dy, int64_t batch,
                    const float* packed_transposed, float* dy_transposed, float* dx) {
  active().input_gradient(g, dy, batch, packed_transposed, dy_transposed, dx);
}

}  // namespace mnistnet::conv_kernels
