#include "layers/depthwise_kernels.h"

#include <algorithm>
#include <cstring>

#include "core/parallel_for.h"

// Vec is 32 bytes: in a build without AVX (the portable default) GCC notes that passing it by
// value changes the ABI. These helpers have internal linkage and are inlined, so no call crosses
// an ABI boundary. (They are not dispatched by CPU yet; conv_kernels_*.cpp show how.)
#pragma GCC diagnostic ignored "-Wpsabi"

namespace mnistnet::depthwise_kernels {

void pad_input(const Geometry& g, const float* x, int64_t batch, float* padded) {
  const int64_t c_in = g.channels, m_count = g.multiplier, lanes = g.lanes();
  const int64_t width = g.out_channels(), row_floats = g.padded_w * lanes;
  parallel_for(batch, [&](int64_t first, int64_t last) {
    for (int64_t b = first; b < last; ++b) {
      // Only the border and the spare lanes are zeroed: the interior is written next.
      float* image = padded + b * g.image_stride();
      const float* xb = x + b * g.in_h * g.in_w * c_in;
      for (int64_t r = 0; r < g.padded_h; ++r) {
        float* row = image + r * row_floats;
        const int64_t h = r - g.pad_top;
        if (h < 0 || h >= g.in_h) {
          std::fill(row, row + row_floats, 0.0f);
          continue;
        }
        std::fill(row, row + g.pad_left * lanes, 0.0f);
        std::fill(row + (g.pad_left + g.in_w) * lanes, row + row_floats, 0.0f);
        for (int64_t w = 0; w < g.in_w; ++w) {
          const float* __restrict src = xb + (h * g.in_w + w) * c_in;
          float* __restrict dst = row + (w + g.pad_left) * lanes;
          if (m_count == 1) {
            for (int64_t c = 0; c < c_in; ++c) dst[c] = src[c];
          } else {
            for (int64_t c = 0; c < c_in; ++c)
              for (int64_t m = 0; m < m_count; ++m) dst[c * m_count + m] = src[c];
          }
          for (int64_t o = width; o < lanes; ++o) dst[o] = 0.0f;
        }
      }
    }
  });
}

void pack(const Geometry& g, const float* kernel, int64_t rows, float* packed) {
  const int64_t width = g.out_channels(), lanes = g.lanes();
  for (int64_t r = 0; r < rows; ++r) {
    std::copy(kernel + r * width, kernel + (r + 1) * width, packed + r * lanes);
    std::fill(packed + r * lanes + width, packed + (r + 1) * lanes, 0.0f);
  }
}

// The vectors below never cross a function boundary that is not inlined (anonymous namespace),
// so GCC's note that returning one without AVX changes the ABI (a non-native build) is moot.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace {

// One block of kLanes channels as a GCC vector: the inner loops over taps and pixels are
// strided, which GCC's loop vectoriser refuses, so the blocks are spelled out.
using Vec = float __attribute__((vector_size(kLanes * sizeof(float))));

inline Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// P output pixels side by side in row oh, columns ow .. ow + P - 1, one block of kLanes channels
// from o0: P independent sums per lane hide the FMA latency, and each kernel vector loaded serves
// all P.
template <int P>
void forward_pixels(const Geometry& g, const float* image, const float* packed_kernel,
                    const float* packed_bias, int64_t oh, int64_t ow, int64_t o0, float* yb) {
  const int64_t lanes = g.lanes(), width = g.out_channels(), row_stride = g.padded_w * lanes;
  Vec acc[static_cast<size_t>(P)];
  const Vec bias = packed_bias ? load(packed_bias + o0) : Vec{};
  for (int q = 0; q < P; ++q) acc[q] = bias;
  const float* corner = image + oh * g.stride_h * row_stride + ow * g.stride_w * lanes + o0;
  const int64_t step = g.stride_w * lanes;  // from one output pixel's window to the next
  for (int64_t i = 0; i < g.kernel_h; ++i) {
    for (int64_t j = 0; j < g.kernel_w; ++j) {
      const Vec k = load(packed_kernel + (i * g.kernel_w + j) * lanes + o0);
      const float* xp = corner + i * row_stride + j * lanes;
      for (int q = 0; q < P; ++q) acc[q] += load(xp + q * step) * k;
    }
  }
  // The last block may hold fewer than kLanes real channels: only those are written.
  const auto bytes = static_cast<size_t>(std::min(kLanes, width - o0)) * sizeof(float);
  for (int q = 0; q < P; ++q)
    std::memcpy(yb + (oh * g.out_w + ow + q) * width + o0, &acc[q], bytes);
}

constexpr int kPixels = 4;  // the kernel gradient adds its four sums by hand

}  // namespace

void forward(const Geometry& g, const float* padded, int64_t batch, const float* packed_kernel,
             const float* packed_bias, float* y) {
  const int64_t lanes = g.lanes(), width = g.out_channels();
  parallel_for(batch, [&](int64_t first, int64_t last) {
    for (int64_t b = first; b < last; ++b) {
      const float* image = padded + b * g.image_stride();
      float* yb = y + b * g.pixels() * width;
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        int64_t ow = 0;
        for (; ow + kPixels <= g.out_w; ow += kPixels)
          for (int64_t o0 = 0; o0 < lanes; o0 += kLanes)
            forward_pixels<kPixels>(g, image, packed_kernel, packed_bias, oh, ow, o0, yb);
        for (; ow < g.out_w; ++ow)
          for (int64_t o0 = 0; o0 < lanes; o0 += kLanes)
            forward_pixels<1>(g, image, packed_kernel, packed_bias, oh, ow, o0, yb);
      }
    }
  });
}

void parameter_gradients(const Geometry& g, const float* padded, const float* dy, int64_t batch,
                         float* partial, float* kernel_grad, float* bias_grad) {
  const int64_t lanes = g.lanes(), width = g.out_channels(), row_stride = g.padded_w * lanes;
  const int64_t block_size = (g.taps() + 1) * lanes;
  // Channels in whole vectors; the rest (width % kLanes) take a plain loop. dy rows are `width`
  // long, so a vector past them would read the next pixel (or past the buffer).
  const int64_t full = width / kLanes * kLanes;
  parallel_for(kBlocks, [&](int64_t first_block, int64_t last_block) {
    for (int64_t blk = first_block; blk < last_block; ++blk) {
      float* sums = partial + blk * block_size;
      std::fill(sums, sums + block_size, 0.0f);
      for (int64_t b = batch * blk / kBlocks; b < batch * (blk + 1) / kBlocks; ++b) {
        const float* image = padded + b * g.image_stride();
        const float* dyb = dy + b * g.pixels() * width;
        // One tap and one block of channels at a time, summed over the image's pixels in
        // registers (kPixels interleaved sums): two loads per multiply-add and no stores.
        for (int64_t i = 0; i < g.kernel_h; ++i) {
          for (int64_t j = 0; j < g.kernel_w; ++j) {
            float* dk = sums + (i * g.kernel_w + j) * lanes;
            for (int64_t o0 = 0; o0 < full; o0 += kLanes) {
              Vec acc[kPixels] = {};
              for (int64_t oh = 0; oh < g.out_h; ++oh) {
                const float* xrow = image + (oh * g.stride_h + i) * row_stride + j * lanes + o0;
                const float* dyrow = dyb + oh * g.out_w * width + o0;
                const int64_t step = g.stride_w * lanes;
                int64_t ow = 0;
                for (; ow + kPixels <= g.out_w; ow += kPixels)
                  for (int q = 0; q < kPixels; ++q)
                    acc[q] += load(xrow + (ow + q) * step) * load(dyrow + (ow + q) * width);
                for (; ow < g.out_w; ++ow)
                  acc[0] += load(xrow + ow * step) * load(dyrow + ow * width);
              }
              const Vec total = (acc[0] + acc[1]) + (acc[2] + acc[3]);
              for (int64_t l = 0; l < kLanes; ++l) dk[o0 + l] += total[l];
            }
            for (int64_t pix = 0; full < width && pix < g.pixels(); ++pix) {
              const int64_t oh = pix / g.out_w, ow = pix % g.out_w;
              const float* xp =
                  image + (oh * g.stride_h + i) * row_stride + (ow * g.stride_w + j) * lanes;
              const float* dyp = dyb + pix * width;
              for (int64_t o = full; o < width; ++o) dk[o] += xp[o] * dyp[o];
            }
          }
        }
        float* __restrict db = sums + g.taps() * lanes;
        for (int64_t pix = 0; pix < g.pixels(); ++pix) {
          const float* __restrict dyp = dyb + pix * width;
          for (int64_t o = 0; o < width; ++o) db[o] += dyp[o];
        }
      }
    }
  });
  // The blocks' sums, added in block order.
  for (int64_t t = 0; t <= g.taps(); ++t) {
    float* out = t < g.taps() ? kernel_grad + t * width : bias_grad;
    if (!out) continue;
    std::fill(out, out + width, 0.0f);
    for (int64_t blk = 0; blk < kBlocks; ++blk) {
      const float* __restrict s = partial + blk * block_size + t * lanes;
      for (int64_t o = 0; o < width; ++o) out[o] += s[o];
    }
  }
}

void input_gradient(const Geometry& g, const float* dy, int64_t batch, const float* packed_kernel,
                    float* padded_dx, float* dx) {
  const int64_t lanes = g.lanes(), width = g.out_channels(), row_stride = g.padded_w * lanes;
  const int64_t c_in = g.channels, m_count = g.multiplier;
  parallel_for(batch, [&](int64_t first, int64_t last) {
    for (int64_t b = first; b < last; ++b) {
      float* image = padded_dx + b * g.image_stride();
      std::fill(image, image + g.image_stride(), 0.0f);
      const float* dyb = dy + b * g.pixels() * width;
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          float* corner = image + oh * g.stride_h * row_stride + ow * g.stride_w * lanes;
          const float* __restrict dyp = dyb + (oh * g.out_w + ow) * width;
          for (int64_t i = 0; i < g.kernel_h; ++i) {
            for (int64_t j = 0; j < g.kernel_w; ++j) {
              float* __restrict dp = corner + i * row_stride + j * lanes;
              const float* __restrict kp = packed_kernel + (i * g.kernel_w + j) * lanes;
              for (int64_t o = 0; o < width; ++o) dp[o] += dyp[o] * kp[o];
            }
          }
        }
      }
      // Crop the padding away and add up each input channel's M copies.
      float* dxb = dx + b * g.in_h * g.in_w * c_in;
      for (int64_t h = 0; h < g.in_h; ++h) {
        for (int64_t w = 0; w < g.in_w; ++w) {
          const float* __restrict src =
              image + ((h + g.pad_top) * g.padded_w + w + g.pad_left) * lanes;
          float* __restrict dst = dxb + (h * g.in_w + w) * c_in;
          for (int64_t c = 0; c < c_in; ++c) {
            float s = 0.0f;
            for (int64_t m = 0; m < m_count; ++m) s += src[c * m_count + m];
            dst[c] = s;
          }
        }
      }
    }
  });
}

}  // namespace mnistnet::depthwise_kernels
