#pragma once
// Branch-free float exp, expm1, log1p and the normal CDF for the element-wise activations. std::exp
// and friends are library calls GCC cannot vectorise without -ffast-math; these are straight-line
// code (a range reduction, a polynomial, selects instead of branches), so a loop over them compiles
// to AVX. Accuracy is a few float ulps, checked against the double-precision library functions in
// tests/test_activations.cpp.
#include <bit>
#include <cmath>
#include <cstdint>

namespace mnistnet::activation_math {

// Relu's backward, "y > 0 ? dy : 0", as a bit mask (dy or +0.0f, the same bits): GCC compiled
// the conditional to a branch per element and did not vectorise the loops that fuse a relu
// (Conv2D's, batch norm's and the merges' backward). `y` may be the relu's input or output.
inline float relu_gradient(float dy, float y) {
  const uint32_t keep = y > 0.0f ? ~uint32_t{0} : 0;
  return std::bit_cast<float>(std::bit_cast<uint32_t>(dy) & keep);
}

// e^x for any float x: 2^n * e^r with n = round(x / ln 2) and |r| <= ln2 / 2, e^r by its Taylor
// polynomial of degree 7 (truncation error below 1e-8). Below -87.3 the result is clamped to
// e^-87.3 ~ 1.2e-38 (no denormals), above 88.3 to e^88.3 ~ 2.2e38 (finite: 2^n stays a normal
// float).
inline float exp(float x) {
  x = x < -87.3f ? -87.3f : x;
  x = x > 88.3f ? 88.3f : x;
  // Rounding by adding and subtracting 1.5 * 2^23 (round to nearest, no library call).
  const float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
  // Cody-Waite: ln 2 = 0.693359375 - 2.12194440e-4, the first with few enough bits that n * it
  // is exact.
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const auto bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  return p * std::bit_cast<float>(bits);
}

// e^x - 1 without the cancellation of exp(x) - 1 near 0 (elu, selu): below |x| = 0.5 its Taylor
// polynomial to x^8 (truncation below 1e-8 relative), else exp(x) - 1 (then |result| > 0.39).
inline float expm1(float x) {
  float p = 1.0f / 40320.0f;
  p = p * x + 1.0f / 5040.0f;
  p = p * x + 1.0f / 720.0f;
  p = p * x + 1.0f / 120.0f;
  p = p * x + 1.0f / 24.0f;
  p = p * x + 1.0f / 6.0f;
  p = p * x + 0.5f;
  p = p * x + 1.0f;
  const float small = p * x;
  const float large = exp(x) - 1.0f;
  return (x < 0.5f) & (x > -0.5f) ? small : large;
}

// log(1 + t) for t in [0, 1]: 2 atanh(s) with s = t / (2 + t) in [0, 1/3], by its series to
// s^17 (the next term is below 3e-10 relative). Exact in form for small t, unlike log(1 + t).
inline float log1p_unit(float t) {
  const float s = t / (2.0f + t);
  const float s2 = s * s;
  float p = 1.0f / 17.0f;
  p = p * s2 + 1.0f / 15.0f;
  p = p * s2 + 1.0f / 13.0f;
  p = p * s2 + 1.0f / 11.0f;
  p = p * s2 + 1.0f / 9.0f;
  p = p * s2 + 1.0f / 7.0f;
  p = p * s2 + 1.0f / 5.0f;
  p = p * s2 + 1.0f / 3.0f;
  p = p * s2 + 1.0f;
  return 2.0f * s * p;
}

// Phi(-a) = erfc(a / sqrt 2) / 2 for a >= 0, the normal distribution's upper tail, by the
// Chebyshev fit of erfc in Numerical Recipes (erfcc, relative error below 1.2e-7):
//   erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z / 2).
// -z^2 = -a^2 / 2 is large in the tail, and its float rounding alone would cost 1e-6 of relative
// precision, so a^2 is split exactly into hi + lo (fma) and e^(-hi/2) taken apart from
// e^(P(t) - lo/2).
inline float normal_tail(float a) {
  const float z = a * 0.707106781f;
  const float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  const float hi = a * a;
  const float lo = std::fma(a, a, -hi);
  return 0.5f * t * exp(-0.5f * hi) * exp(p - 0.5f * lo);
}

// The standard normal CDF, Phi(x) = (1 + erf(x / sqrt 2)) / 2.
inline float normal_cdf(float x) {
  const float tail = normal_tail(x < 0.0f ? -x : x);
  return x < 0.0f ? tail : 1.0f - tail;
}

inline float sigmoid(float x) { return 1.0f / (1.0f + exp(-x)); }

}  // namespace mnistnet::activation_math
