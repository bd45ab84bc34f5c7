#include "layers/conv2d.h"

#include <algorithm>

#include "core/blas.h"
#include "core/parallel_for.h"

namespace mnistnet {

Shape Conv2D::build(const Shape& input) {
  if (input.size() != 3) {
    throw ShapeError("Conv2D needs an image input [height, width, channels], got " +
                     shape_string(input) + "; add a Reshape layer before it");
  }
  in_h_ = input[0];
  in_w_ = input[1];
  in_c_ = input[2];
  if (!o_.same && (in_h_ < o_.kernel_h || in_w_ < o_.kernel_w)) {
    throw ShapeError("a " + std::to_string(o_.kernel_h) + "x" + std::to_string(o_.kernel_w) +
                     " kernel with padding \"valid\" does not fit an input of " + shape_string(input));
  }
  const Padding1D rows = o_.same ? same_padding(in_h_, o_.kernel_h, o_.stride_h)
                                 : valid_padding(in_h_, o_.kernel_h, o_.stride_h);
  const Padding1D cols = o_.same ? same_padding(in_w_, o_.kernel_w, o_.stride_w)
                                 : valid_padding(in_w_, o_.kernel_w, o_.stride_w);
  out_h_ = rows.out;
  out_w_ = cols.out;
  pad_top_ = rows.before;
  pad_left_ = cols.before;
  patch_ = o_.kernel_h * o_.kernel_w * in_c_;
  kernel_.assign(static_cast<size_t>(patch_ * o_.filters), 0.0f);
  kernel_grad_.assign(kernel_.size(), 0.0f);
  if (o_.use_bias) {
    bias_.assign(static_cast<size_t>(o_.filters), 0.0f);
    bias_grad_.assign(bias_.size(), 0.0f);
  }
  return {out_h_, out_w_, o_.filters};
}

void Conv2D::initialize(Rng& rng) {
  // Keras: fan_in = kh*kw*Cin, fan_out = kh*kw*Cout.
  const int64_t fan_in = patch_, fan_out = o_.kernel_h * o_.kernel_w * o_.filters;
  initialize_weights(o_.kernel_init, kernel_.data(), patch_ * o_.filters, fan_in, fan_out, rng);
  if (o_.use_bias) initialize_weights(o_.bias_init, bias_.data(), o_.filters, fan_in, fan_out, rng);
}

std::vector<ParamRef> Conv2D::params() {
  std::vector<ParamRef> p{{"kernel", {o_.kernel_h, o_.kernel_w, in_c_, o_.filters}, kernel_.data(), kernel_grad_.data(), true}};
  if (o_.use_bias) p.push_back({"bias", {o_.filters}, bias_.data(), bias_grad_.data(), true});
  return p;
}

void Conv2D::reserve(int64_t max_batch) { ensure_column_capacity(max_batch); }

void Conv2D::ensure_column_capacity(int64_t images) {
  if (images <= column_images_) return;
  column_images_ = images;
  cols_.assign(static_cast<size_t>(images * out_h_ * out_w_ * patch_), 0.0f);
}

void Conv2D::im2col(const float* x, int64_t batch) {
  // Row (b, oy, ox) of cols holds the receptive field in (ky, kx, c) order, zeros where it
  // hangs over the padding. In NHWC, for one ky the kw*Cin values are contiguous in x when the
  // whole kernel row is inside the image, so most of the work is one copy per kernel row.
  // Output rows of different (b, oy) are independent: the two cores share them.
  const int64_t row_len = o_.kernel_w * in_c_;
  const int64_t image_size = in_h_ * in_w_ * in_c_;
  parallel_for(batch * out_h_, [&](int64_t begin, int64_t end) {
    for (int64_t line = begin; line < end; ++line) {
      const int64_t b = line / out_h_, oy = line % out_h_;
      const float* image = x + b * image_size;
      float* out = cols_.data() + line * out_w_ * patch_;
      for (int64_t ox = 0; ox < out_w_; ++ox) {
        const int64_t x0 = ox * o_.stride_w - pad_left_;
        const bool columns_inside = x0 >= 0 && x0 + o_.kernel_w <= in_w_;
        for (int64_t ky = 0; ky < o_.kernel_h; ++ky, out += row_len) {
          const int64_t iy = oy * o_.stride_h - pad_top_ + ky;
          if (iy < 0 || iy >= in_h_) {
            std::fill(out, out + row_len, 0.0f);
            continue;
          }
          const float* src = image + (iy * in_w_) * in_c_;
          if (columns_inside) {
            std::copy(src + x0 * in_c_, src + x0 * in_c_ + row_len, out);
            continue;
          }
          for (int64_t kx = 0; kx < o_.kernel_w; ++kx) {
            const int64_t ix = x0 + kx;
            float* dst = out + kx * in_c_;
            if (ix < 0 || ix >= in_w_) std::fill(dst, dst + in_c_, 0.0f);
            else std::copy(src + ix * in_c_, src + (ix + 1) * in_c_, dst);
          }
        }
      }
    }
  });
}

void Conv2D::col2im(float* dx, int64_t batch) const {
  // The adjoint of im2col: every column entry adds back into the input pixel it came from.
  // Patches overlap within an image, never across images: the cores split the batch.
  const int64_t row_len = o_.kernel_w * in_c_;
  const int64_t image_size = in_h_ * in_w_ * in_c_;
  parallel_for(batch, [&](int64_t first, int64_t last) {
    std::fill(dx + first * image_size, dx + last * image_size, 0.0f);
    for (int64_t b = first; b < last; ++b) {
      float* image = dx + b * image_size;
      const float* in = cols_.data() + b * out_h_ * out_w_ * patch_;
      for (int64_t oy = 0; oy < out_h_; ++oy) {
        for (int64_t ox = 0; ox < out_w_; ++ox) {
          const int64_t x0 = ox * o_.stride_w - pad_left_;
          for (int64_t ky = 0; ky < o_.kernel_h; ++ky, in += row_len) {
            const int64_t iy = oy * o_.stride_h - pad_top_ + ky;
            if (iy < 0 || iy >= in_h_) continue;
            float* dst_row = image + (iy * in_w_) * in_c_;
            for (int64_t kx = 0; kx < o_.kernel_w; ++kx) {
              const int64_t ix = x0 + kx;
              if (ix < 0 || ix >= in_w_) continue;
              float* dst = dst_row + ix * in_c_;
              const float* src = in + kx * in_c_;
              for (int64_t c = 0; c < in_c_; ++c) dst[c] += src[c];
            }
          }
        }
      }
    }
  });
}

void Conv2D::forward(const float* x, float* y, int64_t batch, bool training) {
  // Training keeps the whole batch's columns for the weight gradient; inference only needs a
  // chunk at a time, so a 10,000-image evaluation does not need gigabytes of columns.
  const int64_t chunk = training ? batch : (column_images_ > 0 ? column_images_ : kInferenceChunk);
  ensure_column_capacity(std::min(chunk, batch));
  for (int64_t first = 0; first < batch; first += chunk) {
    const int64_t n = std::min(chunk, batch - first);
    const int64_t rows = n * out_h_ * out_w_;
    float* out = y + first * out_h_ * out_w_ * o_.filters;
    im2col(x + first * in_h_ * in_w_ * in_c_, n);
    if (o_.use_bias) {
      for (int64_t r = 0; r < rows; ++r) std::copy(bias_.begin(), bias_.end(), out + r * o_.filters);
    }
    // y[rows, filters] = cols[rows, patch] * W[patch, filters] (+ bias)
    gemm(Trans::no, Trans::no, rows, o_.filters, patch_, 1.0f, cols_.data(), patch_,
         kernel_.data(), o_.filters, o_.use_bias ? 1.0f : 0.0f, out, o_.filters);
  }
}

void Conv2D::backward(const float* /*x*/, const float* /*y*/, const float* dy, float* dx,
                      int64_t batch) {
  const int64_t rows = batch * out_h_ * out_w_;
  // dW[patch, filters] = cols^T[patch, rows] * dy[rows, filters]; cols still holds this batch.
  gemm(Trans::yes, Trans::no, patch_, o_.filters, rows, 1.0f, cols_.data(), patch_, dy, o_.filters,
       0.0f, kernel_grad_.data(), o_.filters);
  if (o_.use_bias) {
    std::fill(bias_grad_.begin(), bias_grad_.end(), 0.0f);
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = dy + r * o_.filters;
      for (int64_t f = 0; f < o_.filters; ++f) bias_grad_[static_cast<size_t>(f)] += row[f];
    }
  }
  if (!dx) return;
  // dcols[rows, patch] = dy[rows, filters] * W^T[filters, patch], written over cols (done with it).
  gemm(Trans::no, Trans::yes, rows, patch_, o_.filters, 1.0f, dy, o_.filters, kernel_.data(),
       o_.filters, 0.0f, cols_.data(), patch_);
  col2im(dx, batch);
}

}  // namespace mnistnet
