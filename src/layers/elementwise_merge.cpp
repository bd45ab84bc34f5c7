#include "layers/elementwise_merge.h"

#include <algorithm>
#include <cstdint>

#include "core/parallel_for.h"
#include "layers/activation_math.h"

namespace mnistnet {
namespace {

// As activation.cpp: below this many elements per share a wake-up costs more than it saves.
constexpr int64_t kMinElementsPerThread = 16384;

template <MergeKind K>
float combine(float a, float b) {
  if constexpr (K == MergeKind::subtract) return a - b;
  if constexpr (K == MergeKind::multiply) return a * b;
  if constexpr (K == MergeKind::maximum) return std::max(a, b);
  return a + b;  // add, average
}

// What the last combining pass applies: the average's division and the fused relu (the same
// expressions as Activation's, so the fused op gives the same bits as the two ops).
template <MergeKind K, bool kRelu>
float finish(float v, float count) {
  if constexpr (K == MergeKind::average) v = v / count;
  if constexpr (kRelu) v = v > 0.0f ? v : 0.0f;
  return v;
}

template <MergeKind K, bool kRelu>
void forward_impl(std::span<const float* const> xs, float* y, int64_t n) {
  const auto count = static_cast<float>(xs.size());
  for (size_t k = 1; k < xs.size(); ++k) {
    const bool last = k + 1 == xs.size();
    const float* a = k == 1 ? xs[0] : y;  // y = x_0 op x_1, then y = y op x_k
    const float* b = xs[k];
    parallel_for(
        n,
        [&](int64_t begin, int64_t end) {
          const float* __restrict pb = b + begin;
          float* py = y + begin;
          if (a != y) {
            const float* __restrict pa = a + begin;
            float* __restrict out = py;
            if (last) {
              for (int64_t i = 0; i < end - begin; ++i)
                out[i] = finish<K, kRelu>(combine<K>(pa[i], pb[i]), count);
            } else {
              for (int64_t i = 0; i < end - begin; ++i) out[i] = combine<K>(pa[i], pb[i]);
            }
          } else {
            for (int64_t i = 0; i < end - begin; ++i) {
              const float v = combine<K>(py[i], pb[i]);
              py[i] = last ? finish<K, kRelu>(v, count) : v;
            }
          }
        },
        kMinElementsPerThread);
  }
}

// d(loss)/d(merge output) at element i: dy, or relu's backward of it when the relu is fused.
template <bool kRelu>
float upstream(const float* y, const float* dy, int64_t i) {
  if constexpr (kRelu) return y[i] > 0.0f ? dy[i] : 0.0f;
  (void)y;
  return dy[i];
}

// d(loss)/d(x_k) at element i, given g = d(loss)/d(merge output).
template <MergeKind K>
float input_gradient(std::span<const float* const> xs, size_t k, int64_t i, float g, float count) {
  if constexpr (K == MergeKind::add) return g;
  if constexpr (K == MergeKind::subtract) return k == 0 ? g : -g;
  if constexpr (K == MergeKind::average) return g / count;
  if constexpr (K == MergeKind::multiply) {
    float product = g;
    for (size_t j = 0; j < xs.size(); ++j)
      if (j != k) product *= xs[j][i];
    return product;
  }
  // maximum: the first input holding the maximum takes the gradient
  size_t first = 0;
  float best = xs[0][i];
  for (size_t j = 1; j < xs.size(); ++j) {
    if (xs[j][i] > best) {
      best = xs[j][i];
      first = j;
    }
  }
  return first == k ? g : 0.0f;
}

template <MergeKind K, bool kRelu>
void backward_impl(std::span<const float* const> xs, const float* y, const float* dy,
                   std::span<const MergeGrad> dxs, int64_t n) {
  const auto count = static_cast<float>(xs.size());
  for (size_t k = 0; k < dxs.size(); ++k) {
    float* dx = dxs[k].dx;
    if (!dx) continue;
    const bool accumulate = dxs[k].accumulate;
    if constexpr (K == MergeKind::add || K == MergeKind::subtract || K == MergeKind::average) {
      // The gradient does not read the inputs: one plain loop per case, the relu as a bit mask
      // (dy or +0.0f, the same bits as "y > 0 ? dy : 0"). The general loop below branched on
      // every element and took an eighth of a resnet step in Add's backward.
      const bool negate = K == MergeKind::subtract && k > 0;
      parallel_for(
          n,
          [&](int64_t begin, int64_t end) {
            const float* yr = y + begin;
            const float* g = dy + begin;
            float* out = dx + begin;
            const auto grad = [&](int64_t i) {
              float v = g[i];
              if constexpr (kRelu) v = activation_math::relu_gradient(v, yr[i]);
              if constexpr (K == MergeKind::average) return v / count;
              if constexpr (K == MergeKind::subtract) return negate ? -v : v;
              return v;
            };
            if (accumulate) {
              for (int64_t i = 0; i < end - begin; ++i) out[i] = out[i] + grad(i);
            } else {
              for (int64_t i = 0; i < end - begin; ++i) out[i] = grad(i);
            }
          },
          kMinElementsPerThread);
      continue;
    }
    parallel_for(
        n,
        [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) {
            const float v = input_gradient<K>(xs, k, i, upstream<kRelu>(y, dy, i), count);
            dx[i] = accumulate ? dx[i] + v : v;
          }
        },
        kMinElementsPerThread);
  }
}

template <MergeKind K>
void forward_kind(bool relu, std::span<const float* const> xs, float* y, int64_t n) {
  relu ? forward_impl<K, true>(xs, y, n) : forward_impl<K, false>(xs, y, n);
}

template <MergeKind K>
void backward_kind(bool relu, std::span<const float* const> xs, const float* y, const float* dy,
                   std::span<const MergeGrad> dxs, int64_t n) {
  relu ? backward_impl<K, true>(xs, y, dy, dxs, n) : backward_impl<K, false>(xs, y, dy, dxs, n);
}

}  // namespace

const char* ElementwiseMerge::type() const {
  switch (kind_) {
    case MergeKind::add:
      return "Add";
    case MergeKind::subtract:
      return "Subtract";
    case MergeKind::multiply:
      return "Multiply";
    case MergeKind::average:
      return "Average";
    case MergeKind::maximum:
      return "Maximum";
  }
  return "Add";
}

Shape ElementwiseMerge::build_merge(const std::vector<Shape>& inputs) {
  if (kind_ == MergeKind::subtract && inputs.size() != 2) {
    throw ShapeError("Subtract takes exactly two inputs, got " + std::to_string(inputs.size()));
  }
  for (size_t k = 1; k < inputs.size(); ++k) {
    if (inputs[k] != inputs[0])
      throw MergeShapeError(0, k, std::string(type()) + " needs inputs of one shape");
  }
  size_ = element_count(inputs[0]);
  inputs_ = static_cast<int64_t>(inputs.size());
  return inputs[0];
}

void ElementwiseMerge::forward_merge(std::span<const float* const> xs, float* y, int64_t batch,
                                     bool /*training*/) {
  const int64_t n = batch * size_;
  switch (kind_) {
    case MergeKind::add:
      return forward_kind<MergeKind::add>(relu_, xs, y, n);
    case MergeKind::subtract:
      return forward_kind<MergeKind::subtract>(relu_, xs, y, n);
    case MergeKind::multiply:
      return forward_kind<MergeKind::multiply>(relu_, xs, y, n);
    case MergeKind::average:
      return forward_kind<MergeKind::average>(relu_, xs, y, n);
    case MergeKind::maximum:
      return forward_kind<MergeKind::maximum>(relu_, xs, y, n);
  }
}

void ElementwiseMerge::backward_merge(std::span<const float* const> xs, const float* y,
                                      const float* dy, std::span<const MergeGrad> dxs,
                                      int64_t batch) {
  const int64_t n = batch * size_;
  switch (kind_) {
    case MergeKind::add:
      return backward_kind<MergeKind::add>(relu_, xs, y, dy, dxs, n);
    case MergeKind::subtract:
      return backward_kind<MergeKind::subtract>(relu_, xs, y, dy, dxs, n);
    case MergeKind::multiply:
      return backward_kind<MergeKind::multiply>(relu_, xs, y, dy, dxs, n);
    case MergeKind::average:
      return backward_kind<MergeKind::average>(relu_, xs, y, dy, dxs, n);
    case MergeKind::maximum:
      return backward_kind<MergeKind::maximum>(relu_, xs, y, dy, dxs, n);
  }
}

}  // namespace mnistnet
