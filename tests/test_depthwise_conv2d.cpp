// DepthwiseConv2D against the definition (strides, "same"/"valid", depth multipliers whose C*M
// crosses vector lanes), gradients, thread-count independence, inference chunks, and
// SeparableConv2D as its DepthwiseConv2D + 1x1 Conv2D ops.
#include <catch2/catch.hpp>

#include "core/parallel_for.h"
#include "gradient_check.h"
#include "layer_config_error.h"
#include "layers/conv2d.h"
#include "layers/depthwise_conv2d.h"
#include "layers/registry.h"

using namespace mnistnet;
using Catch::Contains;
using mnistnet::testing::check_gradients;
using mnistnet::testing::layer_config_error;
using mnistnet::testing::random_vector;

namespace {

DepthwiseConv2DOptions depthwise(int64_t kh, int64_t kw, int64_t stride, bool same, int64_t m,
                                 bool bias = true) {
  DepthwiseConv2DOptions o;
  o.kernel_h = kh;
  o.kernel_w = kw;
  o.stride_h = o.stride_w = stride;
  o.same = same;
  o.depth_multiplier = m;
  o.use_bias = bias;
  o.bias_init = Initializer::glorot_uniform;  // non-zero, so the bias is really tested
  return o;
}

// The definition: y[b, oy, ox, c*M + m] = sum over taps of x[b, iy, ix, c] * k[ky, kx, c, m],
// with TensorFlow's padding (the odd extra pixel after).
std::vector<float> direct(const std::vector<float>& x, int64_t batch, int64_t h, int64_t w,
                          int64_t c_in, const float* kernel, const float* bias,
                          const DepthwiseConv2DOptions& o) {
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
  const int64_t m_count = o.depth_multiplier, width = c_in * m_count;
  std::vector<float> y(static_cast<size_t>(batch * oh * ow * width));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t c = 0; c < c_in; ++c)
          for (int64_t m = 0; m < m_count; ++m) {
            double sum = bias ? bias[c * m_count + m] : 0.0;
            for (int64_t ky = 0; ky < o.kernel_h; ++ky)
              for (int64_t kx = 0; kx < o.kernel_w; ++kx) {
                const int64_t iy = oy * o.stride_h - top + ky, ix = ox * o.stride_w - left + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                sum += static_cast<double>(
                           x[static_cast<size_t>(((b * h + iy) * w + ix) * c_in + c)]) *
                       kernel[((ky * o.kernel_w + kx) * c_in + c) * m_count + m];
              }
            y[static_cast<size_t>(((b * oh + oy) * ow + ox) * width + c * m_count + m)] =
                static_cast<float>(sum);
          }
  return y;
}

LayerGroup group_of(const std::string& layer_json) {
  LayerSpec spec;
  spec.args = nlohmann::json::parse(layer_json);
  spec.type = spec.args["type"].get<std::string>();
  spec.pointer = "/model/layers/0";
  return make_layer(spec, "t.json");
}

// Runs a group's ops one after the other as one layer, for gradient checks of the whole group.
class Chain final : public Layer {
 public:
  explicit Chain(LayerGroup& g) : g_(g) {}
  const char* type() const override { return "Chain"; }
  Shape build(const Shape& input) override {
    Shape s = input;
    sizes_.clear();
    for (auto& op : g_.ops) {
      s = op->build(s);
      sizes_.push_back(element_count(s));
    }
    return s;
  }
  void initialize(Rng& rng) override {
    for (auto& op : g_.ops) op->initialize(rng);
  }
  std::vector<ParamRef> params() override {
    std::vector<ParamRef> all;
    for (auto& op : g_.ops)
      for (ParamRef& p : op->params()) all.push_back(p);
    return all;
  }
  void reserve(int64_t max_batch) override {
    acts_.clear();
    grads_.clear();
    for (size_t i = 0; i + 1 < g_.ops.size(); ++i) {
      acts_.emplace_back(static_cast<size_t>(sizes_[i] * max_batch));
      grads_.emplace_back(static_cast<size_t>(sizes_[i] * max_batch));
    }
    for (auto& op : g_.ops) op->reserve(max_batch);
  }
  void forward(const float* x, float* y, int64_t batch, bool training) override {
    const float* in = x;
    for (size_t i = 0; i < g_.ops.size(); ++i) {
      float* out = i + 1 < g_.ops.size() ? acts_[i].data() : y;
      g_.ops[i]->forward(in, out, batch, training);
      in = out;
    }
  }
  void backward(const float* x, const float* y, const float* dy, float* dx,
                int64_t batch) override {
    for (size_t i = g_.ops.size(); i-- > 0;) {
      const float* in = i == 0 ? x : acts_[i - 1].data();
      const float* out = i + 1 < g_.ops.size() ? acts_[i].data() : y;
      const float* d_out = i + 1 < g_.ops.size() ? grads_[i].data() : dy;
      float* d_in = i == 0 ? dx : grads_[i - 1].data();
      g_.ops[i]->backward(in, out, d_out, d_in, batch);
    }
  }

 private:
  LayerGroup& g_;
  std::vector<int64_t> sizes_;
  std::vector<std::vector<float>> acts_, grads_;
};

}  // namespace

TEST_CASE("DepthwiseConv2D by hand: one channel, 2x2 kernel", "[layers][depthwise]") {
  DepthwiseConv2D d(depthwise(2, 2, 1, false, 1, false));
  REQUIRE(d.build({3, 3, 1}) == Shape{2, 2, 1});
  auto p = d.params();
  REQUIRE(p[0].shape == Shape{2, 2, 1, 1});
  const float k[] = {1, 2, 3, 4};
  std::copy(k, k + 4, p[0].value);
  const float x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  float y[4];
  d.reserve(1);
  d.forward(x, y, 1, false);
  CHECK(y[0] == 1 * 1 + 2 * 2 + 4 * 3 + 5 * 4);
  CHECK(y[3] == 5 * 1 + 6 * 2 + 8 * 3 + 9 * 4);
}

TEST_CASE("DepthwiseConv2D forward equals the definition", "[layers][depthwise]") {
  struct Case {
    int64_t h, w, c, kh, kw, stride, m;
    bool same, bias;
  };
  const Case cases[] = {
      {5, 5, 3, 3, 3, 1, 1, true, true},   {6, 7, 4, 3, 3, 2, 2, true, false},
      {7, 6, 9, 5, 3, 2, 1, false, true},  {8, 8, 3, 3, 3, 3, 3, true, true},
      {4, 5, 17, 2, 2, 1, 1, false, true}, {6, 6, 1, 3, 3, 2, 4, true, true},
      {9, 9, 16, 3, 3, 2, 1, true, false}, {5, 5, 2, 1, 1, 1, 5, false, true},
  };
  for (const Case& t : cases) {
    INFO("h " << t.h << " w " << t.w << " c " << t.c << " k " << t.kh << "x" << t.kw << " s "
              << t.stride << " m " << t.m << " same " << t.same);
    const DepthwiseConv2DOptions o = depthwise(t.kh, t.kw, t.stride, t.same, t.m, t.bias);
    DepthwiseConv2D d(o);
    const Shape out = d.build({t.h, t.w, t.c});
    Rng rng(3);
    d.initialize(rng);
    const int64_t batch = 3;
    d.reserve(batch);
    const std::vector<float> x = random_vector(batch * t.h * t.w * t.c, 11);
    std::vector<float> y(static_cast<size_t>(batch * element_count(out)));
    d.forward(x.data(), y.data(), batch, true);
    auto p = d.params();
    const std::vector<float> ref =
        direct(x, batch, t.h, t.w, t.c, p[0].value, t.bias ? p[1].value : nullptr, o);
    REQUIRE(ref.size() == y.size());
    for (size_t i = 0; i < y.size(); ++i) CHECK(y[i] == Approx(ref[i]).margin(1e-5));
  }
}

TEST_CASE("DepthwiseConv2D gradients of input, kernel and bias", "[layers][depthwise][gradient]") {
  SECTION("3x3 same, stride 1, multiplier 1") {
    DepthwiseConv2D d(depthwise(3, 3, 1, true, 1));
    check_gradients(d, {4, 4, 3});
  }
  SECTION("3x3 same, stride 2, multiplier 2, no bias") {
    DepthwiseConv2D d(depthwise(3, 3, 2, true, 2, false));
    check_gradients(d, {5, 6, 2});
  }
  SECTION("5x3 valid, stride 2, multiplier 3, 3 channels (9 outputs cross a vector)") {
    DepthwiseConv2D d(depthwise(5, 3, 2, false, 3));
    check_gradients(d, {7, 5, 3}, {.batch = 5});
  }
}

TEST_CASE("DepthwiseConv2D results do not depend on the thread count or inference chunks",
          "[layers][depthwise]") {
  DepthwiseConv2D d(depthwise(3, 3, 2, true, 2));
  const Shape out = d.build({9, 9, 5});
  Rng rng(5);
  d.initialize(rng);
  const int64_t batch = 13;
  d.reserve(batch);
  const std::vector<float> x = random_vector(batch * 9 * 9 * 5, 21);
  const std::vector<float> dy = random_vector(batch * element_count(out), 22);
  auto run = [&] {
    std::vector<float> y(dy.size()), dx(x.size());
    d.forward(x.data(), y.data(), batch, true);
    d.backward(x.data(), y.data(), dy.data(), dx.data(), batch);
    std::vector<float> all = y;
    all.insert(all.end(), dx.begin(), dx.end());
    for (ParamRef& p : d.params()) all.insert(all.end(), p.grad, p.grad + p.size());
    return all;
  };
  set_parallel_threads(1);
  const std::vector<float> one = run();
  set_parallel_threads(0);
  CHECK(run() == one);

  // Inference in chunks of reserve()'s batch gives the bits of one batch at a time.
  DepthwiseConv2D small(depthwise(3, 3, 2, true, 2));
  small.build({9, 9, 5});
  Rng rng2(5);
  small.initialize(rng2);
  small.reserve(4);
  std::vector<float> chunked(dy.size()), whole(dy.size());
  small.forward(x.data(), chunked.data(), batch, false);
  d.forward(x.data(), whole.data(), batch, false);
  CHECK(chunked == whole);
}

TEST_CASE("SeparableConv2D is a DepthwiseConv2D then a 1x1 Conv2D, Keras's parameters",
          "[layers][separable]") {
  LayerGroup g = group_of(
      R"({"type": "SeparableConv2D", "filters": 5, "kernel_size": 3, "strides": 2,
          "padding": "same", "depth_multiplier": 2, "activation": "relu6"})");
  REQUIRE(g.ops.size() == 3);
  CHECK(std::string(g.ops[0]->type()) == "DepthwiseConv2D");
  CHECK(std::string(g.ops[1]->type()) == "Conv2D");
  CHECK(std::string(g.ops[2]->type()) == "Activation");
  Chain chain(g);
  CHECK(chain.build({8, 8, 3}) == Shape{4, 4, 5});
  // Keras: depthwise_kernel (3, 3, 3, 2), pointwise_kernel (1, 1, 6, 5), bias (5): 54 + 30 + 5.
  const auto p = chain.params();
  REQUIRE(p.size() == 3);
  CHECK(p[0].shape == Shape{3, 3, 3, 2});
  CHECK(p[1].shape == Shape{1, 1, 6, 5});
  CHECK(p[2].shape == Shape{5});
  CHECK(p[0].name == "depthwise_kernel");
  CHECK(p[1].name == "pointwise_kernel");
  CHECK(p[2].name == "bias");

  LayerGroup linear = group_of(
      R"({"type": "SeparableConv2D", "filters": 4, "kernel_size": [3, 2], "depth_multiplier": 2,
          "pointwise_initializer": "he_normal", "bias_initializer": "glorot_uniform"})");
  Chain whole(linear);
  check_gradients(whole, {5, 6, 3});
}

TEST_CASE("DepthwiseConv2D and SeparableConv2D config errors", "[layers][depthwise][errors]") {
  const std::string image = "[8, 8, 3]";
  const auto flat = [&](const std::string& layer) {
    return layer_config_error(layer + R"(, {"type": "Flatten"})", image);
  };
  CHECK(flat(R"({"type": "DepthwiseConv2D", "kernel_size": 3, "depth_multiplier": 2,
                 "padding": "same", "activation": "relu"})") == "(no error)");
  CHECK(flat(R"({"type": "SeparableConv2D", "filters": 8, "kernel_size": 3})") == "(no error)");
  CHECK(flat(R"({"type": "DepthwiseConv2D"})") ==
        "t.json: /model/layers/0/kernel_size: missing; expected an integer >= 1 or a list of 2 "
        "such integers");
  CHECK_THAT(
      flat(R"({"type": "DepthwiseConv2D", "kernel_size": 3, "depth_multiplier": 0})"),
      Contains("t.json: /model/layers/0/depth_multiplier: expected a positive integer, got 0"));
  CHECK_THAT(flat(R"({"type": "DepthwiseConv2D", "kernel_size": 3, "dilation_rate": 2})"),
             Contains("t.json: /model/layers/0/dilation_rate: only 1 (no dilation) is supported"));
  CHECK_THAT(flat(R"({"type": "DepthwiseConv2D", "kernel_size": 9})"),
             Contains("t.json: /model/layers/0: DepthwiseConv2D \"depthwise_conv2d\": a 9x9 "
                      "kernel with padding \"valid\" does not fit an input of [8, 8, 3]"));
  CHECK_THAT(flat(R"({"type": "DepthwiseConv2D", "kernel_size": 3, "filters": 4})"),
             Contains("t.json: /model/layers/0/filters: unknown key"));
  CHECK_THAT(flat(R"({"type": "SeparableConv2D", "kernel_size": 3})"),
             Contains("t.json: /model/layers/0/filters: missing"));
  CHECK_THAT(flat(R"({"type": "SeparableConv2D", "filters": 4, "kernel_size": 3,
                      "kernel_initializer": "zeros"})"),
             Contains("t.json: /model/layers/0/kernel_initializer: unknown key"));
  CHECK_THAT(layer_config_error(R"({"type": "DepthwiseConv2D", "kernel_size": 3})"),
             Contains("DepthwiseConv2D needs an image input") && Contains("[784]"));
}
