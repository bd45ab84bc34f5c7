// GlobalMaxPooling2D: values, TensorFlow's gradient of reduce_max (ties share dy), the
// finite-difference check away from ties, the registry row.
#include <catch2/catch.hpp>

#include "gradient_check.h"
#include "layer_config_error.h"
#include "layers/global_pooling.h"
#include "shifted_input.h"

using namespace mnistnet;
using Catch::Contains;
using mnistnet::testing::check_gradients;
using mnistnet::testing::layer_config_error;
using mnistnet::testing::ShiftedInput;

TEST_CASE("GlobalMaxPooling2D takes the maximum per channel", "[layers][globalmaxpool]") {
  GlobalMaxPooling2D gmp;
  REQUIRE(gmp.build({2, 2, 2}) == Shape{2});
  // Channel 0: 1, -3, 5, 2 -> 5; channel 1: -1, -2, -7, -0.5 -> -0.5.
  const float x[] = {1, -1, -3, -2, 5, -7, 2, -0.5f};
  float y[2];
  gmp.forward(x, y, 1, false);
  CHECK(y[0] == 5.0f);
  CHECK(y[1] == -0.5f);
  const float dy[] = {2.0f, 3.0f};
  float dx[8];
  gmp.backward(x, y, dy, dx, 1);
  CHECK(std::vector<float>(dx, dx + 8) == std::vector<float>{0, 0, 0, 0, 2, 0, 0, 3});
  GlobalMaxPooling2D keep(true);
  CHECK(keep.build({3, 4, 5}) == Shape{1, 1, 5});
}

TEST_CASE("GlobalMaxPooling2D splits dy among tied maxima, as tf.reduce_max",
          "[layers][globalmaxpool]") {
  GlobalMaxPooling2D gmp;
  gmp.build({1, 4, 1});
  const float x[] = {3, 1, 3, 3};
  float y = 0;
  gmp.forward(x, &y, 1, false);
  const float dy = 1.5f;
  float dx[4];
  gmp.backward(x, &y, &dy, dx, 1);
  CHECK(std::vector<float>(dx, dx + 4) == std::vector<float>{0.5f, 0, 0.5f, 0.5f});
}

TEST_CASE("GlobalMaxPooling2D gradients (inputs spread so no step changes the arg-max)",
          "[layers][globalmaxpool][gradient]") {
  GlobalMaxPooling2D gmp;
  ShiftedInput spread(gmp, 1.0f, 0.0f, true);
  check_gradients(spread, {3, 4, 5});
  GlobalMaxPooling2D keep(true);
  ShiftedInput spread_keep(keep, 1.0f, 0.0f, true);
  check_gradients(spread_keep, {2, 2, 3}, {.batch = 4});
}

TEST_CASE("GlobalMaxPooling2D from a config", "[layers][globalmaxpool][config][errors]") {
  CHECK(layer_config_error(R"({"type": "GlobalMaxPooling2D", "keepdims": false})", "[28, 28, 3]") ==
        "(no error)");
  CHECK_THAT(layer_config_error(R"({"type": "GlobalMaxPooling2D"})"),
             Contains("t.json: /model/layers/0: GlobalMaxPooling2D \"global_max_pooling2d\": "
                      "GlobalMaxPooling2D needs an image input [height, width, channels], got "
                      "[784]"));
  CHECK_THAT(layer_config_error(R"({"type": "GlobalMaxPooling2D", "keepdims": 1})", "[4, 4, 1]"),
             Contains("/model/layers/0/keepdims: expected true or false"));
}
