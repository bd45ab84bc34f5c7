// ZeroPadding2D and Cropping2D (one is the other's adjoint): shapes, values, gradients, the
// three Keras argument forms and their errors.
#include <catch2/catch.hpp>
#include <numeric>

#include "gradient_check.h"
#include "layer_config_error.h"
#include "layers/cropping.h"
#include "layers/zero_padding.h"

using namespace mnistnet;
using Catch::Contains;
using mnistnet::testing::check_gradients;
using mnistnet::testing::layer_config_error;

TEST_CASE("ZeroPadding2D puts the image inside a zero border", "[layers][zeropadding]") {
  ZeroPadding2D pad({1, 0, 2, 1});  // top 1, bottom 0, left 2, right 1
  REQUIRE(pad.build({2, 2, 1}) == Shape{3, 5, 1});
  const float x[] = {1, 2, 3, 4};
  std::vector<float> y(15, -1.0f);
  pad.forward(x, y.data(), 1, false);
  CHECK(y == std::vector<float>{0, 0, 0, 0, 0,  //
                                0, 0, 1, 2, 0,  //
                                0, 0, 3, 4, 0});
  check_gradients(pad, {3, 2, 2});
  ZeroPadding2D channels({2, 1, 0, 3});
  check_gradients(channels, {2, 3, 4}, {.batch = 2});
}

TEST_CASE("Cropping2D keeps the window", "[layers][cropping]") {
  Cropping2D crop({1, 0, 0, 2});
  REQUIRE(crop.build({3, 3, 2}) == Shape{2, 1, 2});
  std::vector<float> x(18);
  std::iota(x.begin(), x.end(), 0.0f);
  std::vector<float> y(4);
  crop.forward(x.data(), y.data(), 1, false);
  // Rows 1 and 2, column 0, both channels: pixel (1, 0) = 6, 7; (2, 0) = 12, 13.
  CHECK(y == std::vector<float>{6, 7, 12, 13});
  check_gradients(crop, {3, 3, 2});
  REQUIRE_THROWS_WITH(crop.build({1, 3, 2}), Contains("leaves nothing") && Contains("[1, 3, 2]"));
  Cropping2D none({0, 0, 0, 0});
  CHECK(none.build({4, 4, 1}) == Shape{4, 4, 1});
}

TEST_CASE("ZeroPadding2D and Cropping2D arguments, Keras's three forms",
          "[layers][config][errors]") {
  const std::string image = "[28, 28, 1]";
  const auto summary_shape = [&](const std::string& layer) {
    return layer_config_error(layer + R"(, {"type": "Flatten"})", image);
  };
  CHECK(summary_shape(R"({"type": "ZeroPadding2D"})") == "(no error)");
  CHECK(summary_shape(R"({"type": "ZeroPadding2D", "padding": [[1, 2], [3, 4]]})") == "(no error)");
  CHECK(summary_shape(R"({"type": "Cropping2D", "cropping": [2, 4]})") == "(no error)");
  CHECK(layer_config_error(R"({"type": "ZeroPadding2D", "padding": -1})", image) ==
        "t.json: /model/layers/0/padding: expected an integer >= 0, [height, width] or "
        "[[top, bottom], [left, right]] of such integers, got -1");
  CHECK_THAT(layer_config_error(R"({"type": "ZeroPadding2D", "padding": [1, 2, 3]})", image),
             Contains("/model/layers/0/padding: expected an integer >= 0"));
  CHECK_THAT(layer_config_error(R"({"type": "Cropping2D", "cropping": [[1, 2], 3]})", image),
             Contains("/model/layers/0/cropping: expected an integer >= 0"));
  CHECK_THAT(layer_config_error(R"({"type": "Cropping2D", "cropping": 14})", image),
             Contains("t.json: /model/layers/0: Cropping2D \"cropping2d\": cropping ((14, 14), "
                      "(14, 14)) leaves nothing of an input [28, 28, 1]"));
  CHECK_THAT(layer_config_error(R"({"type": "ZeroPadding2D"})"),
             Contains("ZeroPadding2D needs an image input") && Contains("[784]"));
  CHECK_THAT(
      layer_config_error(R"({"type": "ZeroPadding2D", "data_format": "channels_first"})", image),
      Contains("/model/layers/0/data_format: expected one of"));
}

TEST_CASE("ZeroPadding2D and Cropping2D from a config give Keras's shapes", "[layers][config]") {
  // A padding of ((1, 2), (3, 4)) on 28x28 is 31x35; cropping [2, 4] of that is 27x27.
  CHECK_THAT(layer_config_error(R"({"type": "ZeroPadding2D", "padding": [[1, 2], [3, 4]]},
                                   {"type": "Cropping2D", "cropping": [2, 4]},
                                   {"type": "Reshape", "target_shape": [730]})",
                                "[28, 28, 1]"),
             Contains("729 values"));
}
