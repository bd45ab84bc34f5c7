// MaxPooling2D, AveragePooling2D and GlobalAveragePooling2D: shapes, values, TF's "same"
// semantics, gradients, and the registry rows.
#include <catch2/catch.hpp>
#include <numeric>

#include "config/config_loader.h"
#include "core/errors.h"
#include "gradient_check.h"
#include "layers/global_pooling.h"
#include "layers/pooling.h"
#include "model/model.h"

using namespace mnistnet;
using Catch::Contains;
using mnistnet::testing::check_gradients;
using mnistnet::testing::GradientCheckOptions;

namespace {

MaxPooling2D max_pool(int64_t pool, int64_t stride, PoolPadding padding) {
  return MaxPooling2D({pool, pool}, {stride, stride}, padding);
}

// The kink idea for max-pool: the checker draws inputs in [-1, 1); this adapter adds a fixed
// random permutation of values 2.5 apart, so any two elements differ by more than 0.5 and no
// finite-difference step (0.01) can change an arg-max. dz/dx = 1, so the gradients are the pool's.
class Spread final : public Layer {
 public:
  explicit Spread(Layer& inner) : inner_(inner) {}
  const char* type() const override { return inner_.type(); }
  Shape build(const Shape& input) override {
    size_ = element_count(input);
    return inner_.build(input);
  }
  void reserve(int64_t max_batch) override {
    inner_.reserve(max_batch);
    const auto n = static_cast<size_t>(max_batch * size_);
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    Rng rng(99);
    for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    offset_.resize(n);
    for (size_t i = 0; i < n; ++i)
      offset_[i] = 2.5f * (static_cast<float>(order[i]) - static_cast<float>(n) / 2);
    z_.resize(n);
  }
  void forward(const float* x, float* y, int64_t batch, bool training) override {
    for (size_t i = 0; i < static_cast<size_t>(batch * size_); ++i) z_[i] = x[i] + offset_[i];
    inner_.forward(z_.data(), y, batch, training);
  }
  void backward(const float*, const float* y, const float* dy, float* dx, int64_t batch) override {
    inner_.backward(z_.data(), y, dy, dx, batch);
  }

 private:
  Layer& inner_;
  int64_t size_ = 0;
  std::vector<float> offset_, z_;
};

// Builds a model from a /model section, as `train` does with a config file.
Model build_model(const std::string& model_json) {
  return Model::build(parse_model_spec(nlohmann::json::parse(model_json), "t.json", "/model"), 1);
}

std::string error_of(const std::string& model_json) {
  try {
    build_model(model_json);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

// A model of [28, 28, 1] -> `layer` -> Flatten -> Dense softmax.
std::string with_layer(const std::string& layer) {
  return R"({"input_shape": [28, 28, 1], "layers": [)" + layer +
         R"(, {"type": "Flatten"}, {"type": "Dense", "units": 10, "activation": "softmax"}]})";
}

}  // namespace

TEST_CASE("Pooling output shapes for valid and same padding", "[pooling]") {
  CHECK(max_pool(2, 2, PoolPadding::valid).build({28, 28, 1}) == Shape{14, 14, 1});
  CHECK(max_pool(3, 2, PoolPadding::valid).build({28, 28, 4}) == Shape{13, 13, 4});
  CHECK(max_pool(3, 2, PoolPadding::same).build({28, 28, 4}) == Shape{14, 14, 4});
  CHECK(max_pool(2, 2, PoolPadding::same).build({7, 7, 8}) == Shape{4, 4, 8});
  CHECK(max_pool(2, 2, PoolPadding::valid).build({7, 7, 8}) == Shape{3, 3, 8});
  CHECK(max_pool(2, 1, PoolPadding::same).build({5, 5, 2}) == Shape{5, 5, 2});
  AveragePooling2D rect({2, 3}, {1, 2}, PoolPadding::valid);
  CHECK(rect.build({6, 7, 3}) == Shape{5, 3, 3});
  AveragePooling2D rect_same({2, 3}, {1, 2}, PoolPadding::same);
  CHECK(rect_same.build({6, 7, 3}) == Shape{6, 4, 3});
  GlobalAveragePooling2D global;
  CHECK(global.build({7, 7, 16}) == Shape{16});
  GlobalAveragePooling2D keep(true);
  CHECK(keep.build({7, 7, 16}) == Shape{1, 1, 16});
}

TEST_CASE("Pooling needs an image input and a pool that fits", "[pooling]") {
  auto pool = max_pool(2, 2, PoolPadding::valid);
  REQUIRE_THROWS_AS(pool.build({784}), ShapeError);
  REQUIRE_THROWS_WITH(pool.build({784}),
                      "MaxPooling2D needs an image input [height, width, "
                      "channels], got [784]; add a Reshape");
  AveragePooling2D avg({2, 2}, {2, 2}, PoolPadding::valid);
  REQUIRE_THROWS_WITH(avg.build({28, 28}), Contains("AveragePooling2D needs an image input"));
  GlobalAveragePooling2D global;
  REQUIRE_THROWS_WITH(global.build({10}), Contains("GlobalAveragePooling2D needs an image input") &&
                                              Contains("got [10]"));
  auto big = max_pool(3, 1, PoolPadding::valid);
  REQUIRE_THROWS_WITH(big.build({2, 5, 1}),
                      Contains("pool_size [3, 3] does not fit the input [2, 5, 1]"));
  auto big_same = max_pool(3, 1, PoolPadding::same);
  CHECK(big_same.build({2, 5, 1}) == Shape{2, 5, 1});
}

TEST_CASE("Same padding: max ignores the padding, average counts real elements only", "[pooling]") {
  // One 3x3 example, values 1..9 (negated for the max test); pool 2, stride 2, "same":
  // out 2x2, total padding 1, all of it after (bottom/right), so windows are
  // {1,2,4,5}, {3,6}, {7,8}, {9}.
  const float x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  float y[4];
  AveragePooling2D avg({2, 2}, {2, 2}, PoolPadding::same);
  avg.build({3, 3, 1});
  avg.forward(x, y, 1, false);
  CHECK(y[0] == Approx(3.0));
  CHECK(y[1] == Approx(4.5));
  CHECK(y[2] == Approx(7.5));
  CHECK(y[3] == Approx(9.0));

  auto pool = max_pool(2, 2, PoolPadding::same);
  pool.build({3, 3, 1});
  pool.reserve(1);
  float neg[9];
  for (int i = 0; i < 9; ++i) neg[i] = -x[i];
  pool.forward(neg, y, 1, false);  // padding must not act as a 0 larger than every value
  CHECK(y[0] == -1.0f);
  CHECK(y[1] == -3.0f);
  CHECK(y[2] == -7.0f);
  CHECK(y[3] == -9.0f);
}

TEST_CASE("Max pooling per channel over a batch", "[pooling]") {
  // Two examples of [2, 2, 2] (channel fastest); one 2x2 window per example.
  const float x[] = {1, -1, 4, -4, 3, -3, 2, -2,  // example 0
                     0, 5,  0, 6,  0, 7,  0, 8};  // example 1
  float y[4], dx[16];
  auto pool = max_pool(2, 2, PoolPadding::valid);
  REQUIRE(pool.build({2, 2, 2}) == Shape{1, 1, 2});
  pool.reserve(2);
  pool.forward(x, y, 2, true);
  CHECK(y[0] == 4.0f);
  CHECK(y[1] == -1.0f);
  CHECK(y[2] == 0.0f);
  CHECK(y[3] == 8.0f);
  const float dy[] = {10, 20, 30, 40};
  pool.backward(x, y, dy, dx, 2);
  const float expected[] = {
      0,  20, 10, 0, 0, 0, 0, 0,    // arg-max of channel 0 at pixel 1, channel 1 at pixel 0
      30, 0,  0,  0, 0, 0, 0, 40};  // ties (all 0): the first maximum
  for (int i = 0; i < 16; ++i) CHECK(dx[i] == expected[i]);
}

TEST_CASE("Max pooling inference records nothing: any batch size", "[pooling]") {
  // The model runs inference in chunks larger than the training batch it reserved for.
  auto pool = max_pool(2, 2, PoolPadding::valid);
  pool.build({4, 4, 2});
  pool.reserve(1);
  const std::vector<float> x = mnistnet::testing::random_vector(50 * 32, 5);
  std::vector<float> y(50 * 8), one(8);
  pool.forward(x.data(), y.data(), 50, false);
  pool.forward(x.data() + 49 * 32, one.data(), 1, true);  // the last example, as a training batch
  for (size_t i = 0; i < 8; ++i) CHECK(y[49 * 8 + i] == one[i]);
}

TEST_CASE("Overlapping max windows accumulate the gradient of a shared maximum", "[pooling]") {
  // 3x3 with the maximum in the centre; pool 2, stride 1: all four windows pick the centre.
  const float x[] = {1, 2, 3, 4, 9, 5, 6, 7, 8};
  float y[4], dx[9];
  auto pool = max_pool(2, 1, PoolPadding::valid);
  pool.build({3, 3, 1});
  pool.reserve(1);
  pool.forward(x, y, 1, true);
  for (float v : y) CHECK(v == 9.0f);
  const float dy[] = {1, 2, 3, 4};
  pool.backward(x, y, dy, dx, 1);
  for (int i = 0; i < 9; ++i) CHECK(dx[i] == (i == 4 ? 10.0f : 0.0f));
}

TEST_CASE("Global average pooling takes the mean per channel", "[pooling]") {
  const float x[] = {1, 10, 2, 20, 3, 30, 6, 60};  // [2, 2, 2]
  float y[2], dx[8];
  GlobalAveragePooling2D global;
  global.build({2, 2, 2});
  global.forward(x, y, 1, false);
  CHECK(y[0] == Approx(3.0));
  CHECK(y[1] == Approx(30.0));
  const float dy[] = {4, 8};
  global.backward(x, y, dy, dx, 1);
  for (int i = 0; i < 8; ++i) CHECK(dx[i] == Approx(i % 2 == 0 ? 1.0 : 2.0));
}

TEST_CASE("MaxPooling2D gradients away from arg-max changes", "[pooling][gradient]") {
  struct Case {
    int64_t pool, stride;
    PoolPadding padding;
    Shape input;
  };
  const Case cases[] = {
      {2, 2, PoolPadding::valid, {4, 4, 3}}, {2, 2, PoolPadding::same, {5, 5, 2}},
      {3, 2, PoolPadding::valid, {7, 7, 2}}, {3, 2, PoolPadding::same, {6, 6, 2}},
      {2, 1, PoolPadding::valid, {4, 5, 2}}, {3, 1, PoolPadding::same, {4, 4, 2}},
      {4, 2, PoolPadding::same, {5, 6, 1}},
  };
  for (const Case& c : cases) {
    INFO("pool " << c.pool << ", stride " << c.stride << ", "
                 << (c.padding == PoolPadding::same ? "same" : "valid") << ", input "
                 << shape_string(c.input));
    auto pool = max_pool(c.pool, c.stride, c.padding);
    Spread spread(pool);
    check_gradients(spread, c.input);
  }
  SECTION("non-square pool and strides") {
    MaxPooling2D pool({2, 3}, {1, 2}, PoolPadding::same);
    Spread spread(pool);
    check_gradients(spread, {5, 7, 2});
  }
}

TEST_CASE("AveragePooling2D and GlobalAveragePooling2D gradients", "[pooling][gradient]") {
  SECTION("average, valid, even pool, stride 2") {
    AveragePooling2D pool({2, 2}, {2, 2}, PoolPadding::valid);
    check_gradients(pool, {4, 4, 3});
  }
  SECTION("average, same, odd pool, stride 2 (windows clipped by padding)") {
    AveragePooling2D pool({3, 3}, {2, 2}, PoolPadding::same);
    check_gradients(pool, {6, 5, 2});
  }
  SECTION("average, same, stride 1 (overlapping)") {
    AveragePooling2D pool({2, 3}, {1, 1}, PoolPadding::same);
    check_gradients(pool, {4, 4, 2});
  }
  SECTION("average, valid, odd pool, stride 1") {
    AveragePooling2D pool({3, 3}, {1, 1}, PoolPadding::valid);
    check_gradients(pool, {5, 5, 2});
  }
  SECTION("global average") {
    GlobalAveragePooling2D global;
    check_gradients(global, {3, 4, 5});
  }
}

TEST_CASE("Pooling layers from a config, with Keras's arguments", "[pooling][config]") {
  Model m = build_model(R"({"input_shape": [28, 28, 1], "layers": [
      {"type": "MaxPooling2D"},
      {"type": "AveragePooling2D", "pool_size": [3, 3], "strides": 1, "padding": "same"},
      {"type": "MaxPooling2D", "pool_size": 3, "strides": [2, 2], "data_format": "channels_last"},
      {"type": "GlobalAveragePooling2D"},
      {"type": "Dense", "units": 10, "activation": "softmax"}]})");
  const auto rows = m.summary_rows();
  REQUIRE(rows.size() == 5);
  CHECK(rows[0].output == Shape{14, 14, 1});  // pool_size 2, strides default to pool_size
  CHECK(rows[1].output == Shape{14, 14, 1});
  CHECK(rows[2].output == Shape{6, 6, 1});
  CHECK(rows[3].output == Shape{1});
  for (size_t i = 0; i < 4; ++i) CHECK(rows[i].params == 0);
}

TEST_CASE("Pooling arguments are validated with the JSON pointer", "[pooling][config][errors]") {
  CHECK_THAT(error_of(with_layer(R"({"type": "MaxPooling2D", "pool_size": 0})")),
             Contains("t.json: /model/layers/0/pool_size: expected an integer >= 1"));
  CHECK_THAT(error_of(with_layer(R"({"type": "MaxPooling2D", "pool_size": [2, 2, 2]})")),
             Contains("/model/layers/0/pool_size: expected"));
  CHECK_THAT(error_of(with_layer(R"({"type": "AveragePooling2D", "strides": -1})")),
             Contains("/model/layers/0/strides: expected an integer >= 1"));
  CHECK_THAT(error_of(with_layer(R"({"type": "MaxPooling2D", "padding": "full"})")),
             Contains("/model/layers/0/padding: expected one of \"valid\", \"same\""));
  CHECK_THAT(error_of(with_layer(R"({"type": "MaxPooling2D", "data_format": "channels_first"})")),
             Contains("/model/layers/0/data_format: expected one of \"channels_last\""));
  CHECK_THAT(error_of(with_layer(R"({"type": "MaxPooling2D", "pool": 2})")),
             Contains("/model/layers/0/pool: unknown key"));
  CHECK_THAT(error_of(with_layer(R"({"type": "GlobalAveragePooling2D", "keepdims": 1})")),
             Contains("/model/layers/0/keepdims: expected true or false"));
  CHECK_THAT(
      error_of(with_layer(R"({"type": "MaxPooling2D", "pool_size": 29})")),
      Contains("/model/layers/0: MaxPooling2D") && Contains("does not fit the input [28, 28, 1]"));
  CHECK_THAT(error_of(R"({"input_shape": [784], "layers": [{"type": "MaxPooling2D"},
                {"type": "Dense", "units": 10, "activation": "softmax"}]})"),
             Contains("/model/layers/0: MaxPooling2D") &&
                 Contains("MaxPooling2D needs an image input [height, width, channels], got [784]; "
                          "add a Reshape"));
}
