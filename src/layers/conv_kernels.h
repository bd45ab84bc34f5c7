#pragma once
// Direct NHWC convolution kernels ("implicit GEMM"): the GEMM of im2col, computed straight
// from a zero-padded copy of the input instead of a materialised column matrix.
//
// Why not im2col + OpenBLAS: the codelab's convolutions have few filters (12-64), so the
// column GEMMs are tall and narrow ([B*Ho*Wo, 600] x [600, 48]). OpenBLAS then spends much of
// its time packing the 30 MB column matrix, and the input-gradient GEMM has an inner
// dimension of only 48. Here every kernel keeps a register tile of accumulators (pixels x
// filters, kernel taps x filters, or input pixels x channels), reads the padded input where
// it lies (for one kernel row, the kw*Cin taps of a pixel are contiguous in NHWC), and never
// writes a column matrix.
//
// Layouts (Keras): input x [B, H, W, Cin]; kernel W [kh, kw, Cin, F] = [K, F] with K the
// patch size kh*kw*Cin; output y [B, Ho, Wo, F]. "Padded" images are [Hp, Wp, Cin] with the
// padding already in place, followed by kSlack floats so that vector tails may run past the
// last tap without touching another image.
#include <cstdint>

namespace mnistnet::conv_kernels {

// Floats after each padded image that vector tails may read or add zeros into.
inline constexpr int64_t kSlack = 16;

struct Geometry {
  int64_t in_h = 0, in_w = 0, in_c = 0;
  int64_t out_h = 0, out_w = 0, filters = 0;
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0;
  int64_t padded_h = 0, padded_w = 0;  // the input with its padding: (Ho-1)*s + k

  int64_t run() const { return kernel_w * in_c; }  // contiguous taps of one kernel row
  int64_t patch() const { return kernel_h * run(); }
  int64_t row_stride() const { return padded_w * in_c; }
  int64_t image_stride() const { return padded_h * padded_w * in_c + kSlack; }
  int64_t pixels() const { return out_h * out_w; }
  // Filters rounded up to whole vectors (8 or 16 lanes); bias and packed kernels use it.
  int64_t padded_filters() const;
  // Floats of the packed kernel and of the packed kernel gradient (filters padded to lanes).
  int64_t packed_kernel_size() const;
  // Input channels rounded up to whole vectors (8 or 16 lanes), as input_gradient() computes.
  int64_t padded_channels() const;
  // Floats of the packed transposed kernel that input_gradient() reads.
  int64_t packed_transposed_size() const;
  // Floats of the transposed copy of dy that input_gradient() writes as scratch.
  int64_t transposed_dy_size(int64_t batch) const;
  // Floats of dy padded to whole vectors, when the filter count needs it (else 0).
  int64_t padded_dy_size(int64_t batch) const;
};

// Copies x [B, H, W, Cin] into padded images [B, image_stride]; the border is zeroed.
void pad_input(const Geometry& g, const float* x, int64_t batch, float* padded);

// Reorders W [K, F] into the layout forward() and the kernel gradient use.
void pack_kernel(const Geometry& g, const float* kernel, float* packed);
// The inverse layout change, for the kernel gradient: packed -> [K, F].
void unpack_kernel(const Geometry& g, const float* packed, float* kernel);
// Reorders W into the layout input_gradient() uses.
void pack_transposed_kernel(const Geometry& g, const float* kernel, float* packed);

// y [B, Ho, Wo, F] = conv(padded, W) (+ bias when given, zero-padded to padded_filters()),
// then relu(y) when relu is set (Activation's expression, so the same bits as the two ops).
void forward(const Geometry& g, const float* padded, int64_t batch, const float* packed_kernel,
             const float* bias, bool relu, float* y);

// packed_grad (layout of pack_kernel) = sum over pixels of patch(x) outer dy.
// dy_scratch must hold padded_dy_size(batch) floats (unused when that is 0).
void kernel_gradient(const Geometry& g, const float* padded, const float* dy, int64_t batch,
                     float* dy_scratch, float* packed_grad);

// dx [B, H, W, Cin] = the adjoint of forward() applied to dy, computed as a convolution of dy
// (no scatter); dy_transposed is scratch of transposed_dy_size(batch) floats.
void input_gradient(const Geometry& g, const float* dy, int64_t batch,
                    const float* packed_transposed, float* dy_transposed, float* dx);

}  // namespace mnistnet::conv_kernels
