// Conv2D: forward against a naive direct convolution, TF "same" shapes, gradient checks.
#include <catch2/catch.hpp>

#include "config/config_loader.h"
#include "fusion_check.h"
#include "gradient_check.h"
#include "layers/conv2d.h"
#include "model/loss.h"
#include "model/model.h"

using namespace mnistnet;
using mnistnet::testing::check_gradients;
using mnistnet::testing::random_vector;

namespace {

Conv2DOptions conv(int64_t filters, int64_t kh, int64_t kw, int64_t stride, bool same,
                   bool bias = true) {
  Conv2DOptions o;
  o.filters = filters;
  o.kernel_h = kh;
  o.kernel_w = kw;
  o.stride_h = o.stride_w = stride;
  o.same = same;
  o.use_bias = bias;
  o.bias_init = Initializer::glorot_uniform;  // non-zero, so the bias is really tested
  return o;
}

// The definition, written as plainly as possible: NHWC input, kernel [kh, kw, cin, cout],
// TensorFlow's padding with the odd extra pixel after.
std::vector<float> direct_conv(const std::vector<float>& x, int64_t batch, int64_t h, int64_t w,
                               int64_t cin, const float* kernel, const float* bias,
                               const Conv2DOptions& o) {
  auto pad = [](int64_t in, int64_t k, int64_t s, bool same, int64_t& out) {
    if (!same) {
      out = (in - k) / s + 1;
      return int64_t{0};
    }
    out = (in + s - 1) / s;
    return std::max<int64_t>((out - 1) * s + k - in, 0) / 2;
  };
  int64_t oh, ow;
  const int64_t top = pad(h, o.kernel_h, o.stride_h, o.same, oh),
                left = pad(w, o.kernel_w, o.stride_w, o.same, ow);
  std::vector<float> y(static_cast<size_t>(batch * oh * ow * o.filters));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t f = 0; f < o.filters; ++f) {
          double sum = bias ? bias[f] : 0.0;
          for (int64_t ky = 0; ky < o.kernel_h; ++ky)
            for (int64_t kx = 0; kx < o.kernel_w; ++kx)
              for (int64_t c = 0; c < cin; ++c) {
                const int64_t iy = oy * o.stride_h - top + ky, ix = ox * o.stride_w - left + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                sum +=
                    static_cast<double>(x[static_cast<size_t>(((b * h + iy) * w + ix) * cin + c)]) *
                    kernel[((ky * o.kernel_w + kx) * cin + c) * o.filters + f];
              }
          y[static_cast<size_t>(((b * oh + oy) * ow + ox) * o.filters + f)] =
              static_cast<float>(sum);
        }
  return y;
}

}  // namespace

TEST_CASE("Conv2D forward equals a direct convolution", "[layers][conv2d]") {
  struct Case {
    int64_t h, w, cin, filters, kh, kw, stride;
    bool same;
  };
  // The direct kernels tile filters in vectors of 8 or 16 and blocks of 64, so the filter
  // counts include 16, 24, 48 and 64 (whole vectors), 70 and 130 (several blocks with tails).
  const Case cases[] = {
      {7, 7, 2, 3, 3, 3, 1, true},    {8, 8, 3, 4, 6, 6, 2, true},  {9, 7, 2, 2, 5, 5, 2, true},
      {8, 8, 1, 3, 4, 4, 2, true},    {7, 9, 2, 3, 3, 2, 1, false}, {10, 10, 3, 2, 4, 4, 3, false},
      {5, 5, 2, 2, 1, 1, 1, true},    {9, 9, 5, 16, 3, 3, 1, true}, {10, 10, 3, 24, 6, 6, 1, true},
      {12, 12, 7, 48, 5, 5, 2, true}, {7, 7, 9, 64, 4, 4, 2, true}, {6, 6, 3, 70, 3, 3, 1, true},
      {5, 6, 2, 130, 2, 3, 2, false}};
  for (const Case& c : cases) {
    INFO("input " << c.h << "x" << c.w << "x" << c.cin << ", kernel " << c.kh << "x" << c.kw
                  << " stride " << c.stride << (c.same ? " same" : " valid"));
    const Conv2DOptions o = conv(c.filters, c.kh, c.kw, c.stride, c.same);
    Conv2D layer(o);
    const Shape out = layer.build({c.h, c.w, c.cin});
    Rng rng(11);
    layer.initialize(rng);
    const int64_t batch = 3;
    const auto x = random_vector(batch * c.h * c.w * c.cin, 5);
    auto params = layer.params();
    const auto expected =
        direct_conv(x, batch, c.h, c.w, c.cin, params[0].value, params[1].value, o);
    REQUIRE(static_cast<size_t>(element_count(out) * batch) == expected.size());
    for (bool training : {true, false}) {
      std::vector<float> y(expected.size());
      layer.forward(x.data(), y.data(), batch, training);
      for (size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == Approx(expected[i]).margin(1e-5));
    }
  }
}

TEST_CASE("Conv2D inference in chunks matches one large batch", "[layers][conv2d]") {
  Conv2D layer(conv(4, 3, 3, 1, true));
  const Shape out = layer.build({6, 6, 2});
  Rng rng(3);
  layer.initialize(rng);
  const int64_t batch = 150;  // more than the 64-image inference chunk
  const auto x = random_vector(batch * 72, 9);
  std::vector<float> chunked(static_cast<size_t>(batch * element_count(out))),
      whole(chunked.size());
  layer.forward(x.data(), chunked.data(), batch, false);
  layer.forward(x.data(), whole.data(), batch, true);
  CHECK(chunked == whole);
}

TEST_CASE("Conv2D 'same' output shapes follow TensorFlow, 'valid' shrinks", "[layers][conv2d]") {
  auto out = [](int64_t in, int64_t k, int64_t s, bool same) {
    Conv2D layer(conv(5, k, k, s, same));
    return layer.build({in, in, 1});
  };
  // the codelab's convolutions: 28 -> 28 -> 14 -> 7
  CHECK(out(28, 3, 1, true) == Shape{28, 28, 5});
  CHECK(out(28, 6, 1, true) == Shape{28, 28, 5});
  CHECK(out(28, 6, 2, true) == Shape{14, 14, 5});
  CHECK(out(28, 5, 2, true) == Shape{14, 14, 5});
  CHECK(out(14, 6, 2, true) == Shape{7, 7, 5});
  CHECK(out(14, 4, 2, true) == Shape{7, 7, 5});
  CHECK(out(15, 4, 2, true) == Shape{8, 8, 5});
  CHECK(out(28, 5, 1, false) == Shape{24, 24, 5});
  CHECK(out(28, 6, 2, false) == Shape{12, 12, 5});
}

TEST_CASE("Conv2D rejects inputs it cannot take", "[layers][conv2d]") {
  Conv2D flat(conv(2, 3, 3, 1, true));
  REQUIRE_THROWS_WITH(flat.build({784}),
                      Catch::Contains("needs an image input") && Catch::Contains("Reshape"));
  Conv2D big(conv(2, 5, 5, 1, false));
  REQUIRE_THROWS_WITH(big.build({3, 3, 1}), Catch::Contains("does not fit"));
}

TEST_CASE("Conv2D gradients of input, kernel and bias", "[layers][conv2d][gradient]") {
  SECTION("3x3 stride 1 same") {
    Conv2D layer(conv(3, 3, 3, 1, true));
    check_gradients(layer, {5, 5, 2}, {.batch = 2});
  }
  SECTION("even 6x6 kernel, stride 2, same (asymmetric padding)") {
    Conv2D layer(conv(2, 6, 6, 2, true));
    check_gradients(layer, {8, 8, 2}, {.batch = 2});
  }
  SECTION("24 filters (vectors of 8) and 70 filters (two blocks, a tail), stride 2") {
    Conv2D narrow(conv(24, 3, 3, 2, true));
    check_gradients(narrow, {6, 6, 3}, {.batch = 2});
    Conv2D wide(conv(70, 2, 2, 1, true));
    check_gradients(wide, {4, 4, 2}, {.batch = 2});
  }
  SECTION("4x4 stride 2 same, no bias") {
    Conv2D layer(conv(3, 4, 4, 2, true, false));
    check_gradients(layer, {7, 7, 2}, {.batch = 2});
  }
  SECTION("5x5 stride 2 same on an odd input") {
    Conv2D layer(conv(2, 5, 5, 2, true));
    check_gradients(layer, {7, 7, 1}, {.batch = 2});
  }
  SECTION("3x2 valid, stride 1") {
    Conv2D layer(conv(2, 3, 2, 1, false));
    check_gradients(layer, {5, 4, 3}, {.batch = 2});
  }
  SECTION("4x4 valid, stride 3") {
    Conv2D layer(conv(2, 4, 4, 3, false));
    check_gradients(layer, {10, 10, 1}, {.batch = 2});
  }
}

TEST_CASE("Conv2D gradients with a fused relu", "[layers][conv2d][gradient]") {
  // absorb_relu() before build, as the model does; the relu's kink is rarely within a step of
  // a random pre-activation, and the bit-exact comparison with the two ops below covers it.
  Conv2D layer(conv(3, 3, 3, 1, true));
  REQUIRE(layer.absorb_relu());
  check_gradients(layer, {5, 5, 2}, {.batch = 2, .step = 1e-3f});
}

TEST_CASE("A relu after Conv2D runs inside it, with the same bits as the two ops",
          "[layers][conv2d][model]") {
  // Conv2D's own activation="relu" (a Conv2D and an Activation op, fused), against a Dropout(0)
  // between the two that stops the fusion. Two convolutions, so the first's dx is used; 12
  // filters (padded to vectors of 8) and 16.
  const auto spec = [](const char* between) {
    return parse_model_spec(nlohmann::json::parse(std::string(R"({"input_shape": [8, 8, 2],
        "layers": [
        {"type": "Conv2D", "filters": 12, "kernel_size": 3, "padding": "same"},)") +
                                                  between + R"(
        {"type": "Activation", "activation": "relu"},
        {"type": "Conv2D", "filters": 16, "kernel_size": 4, "strides": 2, "padding": "same",
         "activation": "relu"},
        {"type": "Flatten"},
        {"type": "Dense", "units": 3, "activation": "softmax"}]})"),
                            "test.json", "/model");
  };
  testing::check_fused_equals_unfused(spec, 8 * 8 * 2, {1, 3});
}
