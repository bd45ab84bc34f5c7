#pragma once
// NHWC depthwise convolution kernels: every input channel c is convolved with its own
// depth_multiplier (M) filters, output channel o = c * M + m (Keras's order).
//
// Layouts (Keras): x [B, H, W, C]; kernel [kh, kw, C, M] = [taps, C*M]; y [B, Ho, Wo, C*M].
// The padded input is [Hp, Wp, Cp] per image, the padding in place and each input channel
// repeated M times, so output channel o reads padded lane o; Cp = C*M rounded up to whole
// vectors (kLanes), the extra lanes zero. Every loop then runs over contiguous channels, which
// is what vectorises: a depthwise filter has no reduction over channels to block a GEMM on.
//
// The batch is split across cores by images; sums over images (the kernel and bias gradients)
// go through kBlocks fixed partial sums added in order, so results do not depend on the thread
// count.
#include <cstdint>

namespace mnistnet::depthwise_kernels {

inline constexpr int64_t kLanes = 8;   // floats per accumulator block (one AVX register)
inline constexpr int64_t kBlocks = 4;  // partial sums of the parameter gradients

struct Geometry {
  int64_t in_h = 0, in_w = 0, channels = 0, multiplier = 1;
  int64_t out_h = 0, out_w = 0;
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0;
  int64_t padded_h = 0, padded_w = 0;

  int64_t out_channels() const { return channels * multiplier; }
  int64_t lanes() const { return (out_channels() + kLanes - 1) / kLanes * kLanes; }  // Cp
  int64_t taps() const { return kernel_h * kernel_w; }
  int64_t pixels() const { return out_h * out_w; }
  int64_t image_stride() const { return padded_h * padded_w * lanes(); }
};

// padded [B, image_stride] = x [B, H, W, C] with its border zeroed and channels repeated M times.
void pad_input(const Geometry& g, const float* x, int64_t batch, float* padded);

// packed [taps, Cp] = kernel [taps, C*M] with zero lanes; likewise bias [C*M] -> [Cp].
void pack(const Geometry& g, const float* kernel, int64_t rows, float* packed);

// y [B, Ho, Wo, C*M] = depthwise(padded, packed kernel) + packed bias (or none).
void forward(const Geometry& g, const float* padded, int64_t batch, const float* packed_kernel,
             const float* packed_bias, float* y);

// kernel_grad [taps, C*M] = sum over images and pixels of x under the tap times dy, and
// bias_grad [C*M] = sum of dy (when not nullptr). partial: [kBlocks, (taps + 1) * Cp] scratch.
void parameter_gradients(const Geometry& g, const float* padded, const float* dy, int64_t batch,
                         float* partial, float* kernel_grad, float* bias_grad);

// dx [B, H, W, C] = the adjoint of forward() applied to dy; padded_dx: [B, image_stride] scratch.
void input_gradient(const Geometry& g, const float* dy, int64_t batch, const float* packed_kernel,
                    float* padded_dx, float* dx);

}  // namespace mnistnet::depthwise_kernels
