// The fused softmax cross-entropy: values, gradient, stability.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "model/loss.h"

using namespace mnistnet;

TEST_CASE("Softmax cross-entropy matches -log softmax and counts correct answers", "[loss]") {
  const float logits[] = {1.0f, 2.0f, 3.0f, 0.0f, 0.0f, 0.0f};
  const int32_t labels[] = {2, 1};
  float d[6];
  const LossSums s = softmax_cross_entropy(logits, labels, 2, 3, d);
  const double p2 = std::exp(3.0) / (std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  CHECK(s.loss == Approx(-std::log(p2) + std::log(3.0)));
  CHECK(s.correct == 1);  // the second row ties; arg-max picks index 0, label 1
  // gradient of the mean: (p - onehot) / batch
  CHECK(d[2] == Approx((p2 - 1.0) / 2.0));
  CHECK(d[3] == Approx((1.0 / 3.0) / 2.0));
  CHECK(d[4] == Approx((1.0 / 3.0 - 1.0) / 2.0));
}

TEST_CASE("Softmax cross-entropy gradient matches finite differences", "[loss][gradient]") {
  float logits[] = {0.3f, -1.2f, 2.0f, 0.7f, 0.1f, 0.5f, -0.4f, 1.1f};
  const int32_t labels[] = {3, 0};
  float d[8];
  softmax_cross_entropy(logits, labels, 2, 4, d);
  for (int i = 0; i < 8; ++i) {
    const float saved = logits[i];
    logits[i] = saved + 1e-3f;
    const double plus = softmax_cross_entropy(logits, labels, 2, 4, nullptr).loss / 2.0;
    logits[i] = saved - 1e-3f;
    const double minus = softmax_cross_entropy(logits, labels, 2, 4, nullptr).loss / 2.0;
    logits[i] = saved;
    CHECK(d[i] == Approx((plus - minus) / 2e-3).margin(1e-4));
  }
}

TEST_CASE("Softmax cross-entropy stays finite for logits of +-1000", "[loss]") {
  const float logits[] = {1000.0f, -1000.0f, 0.0f};
  float d[3];
  const int32_t right[] = {0}, wrong[] = {1};
  CHECK(softmax_cross_entropy(logits, right, 1, 3, d).loss == Approx(0.0).margin(1e-9));
  const LossSums s = softmax_cross_entropy(logits, wrong, 1, 3, d);
  CHECK(std::isfinite(s.loss));
  CHECK(s.loss == Approx(2000.0));
  for (float g : d) CHECK(std::isfinite(g));
}

TEST_CASE("Label smoothing is Keras's: y = onehot * (1 - s) + s / classes", "[loss]") {
  const float logits[] = {1.0f, 2.0f, 3.0f, 0.5f, -1.0f, 0.0f};
  const int32_t labels[] = {2, 0};
  float d[6];
  const LossSums s = softmax_cross_entropy(logits, labels, 2, 3, d, 0.3f);
  // Row 0: y = (0.1, 0.1, 0.8); loss = -sum y log p.
  double expected = 0.0;
  for (int r = 0; r < 2; ++r) {
    const float* z = logits + 3 * r;
    const double sum = std::exp(z[0]) + std::exp(z[1]) + std::exp(z[2]);
    for (int j = 0; j < 3; ++j) {
      const double y = (j == labels[r] ? 0.7 : 0.0) + 0.1;
      const double p = std::exp(z[j]) / sum;
      expected -= y * std::log(p);
      CHECK(d[3 * r + j] == Approx((p - y) / 2.0));
    }
  }
  CHECK(s.loss == Approx(expected));
  CHECK(s.correct == 2);
  // Without smoothing the result is the plain cross-entropy, bit for bit.
  float plain[6], zero[6];
  const LossSums a = softmax_cross_entropy(logits, labels, 2, 3, plain);
  const LossSums b = softmax_cross_entropy(logits, labels, 2, 3, zero, 0.0f);
  CHECK(a.loss == b.loss);
  CHECK(std::equal(plain, plain + 6, zero));
}

TEST_CASE("The label-smoothed gradient matches finite differences", "[loss][gradient]") {
  float logits[] = {0.3f, -1.2f, 2.0f, 0.7f, 0.1f, 0.5f, -0.4f, 1.1f};
  const int32_t labels[] = {3, 0};
  float d[8];
  softmax_cross_entropy(logits, labels, 2, 4, d, 0.2f);
  for (int i = 0; i < 8; ++i) {
    const float saved = logits[i];
    logits[i] = saved + 1e-3f;
    const double plus = softmax_cross_entropy(logits, labels, 2, 4, nullptr, 0.2f).loss / 2.0;
    logits[i] = saved - 1e-3f;
    const double minus = softmax_cross_entropy(logits, labels, 2, 4, nullptr, 0.2f).loss / 2.0;
    logits[i] = saved;
    CHECK(d[i] == Approx((plus - minus) / 2e-3).margin(1e-4));
  }
}
