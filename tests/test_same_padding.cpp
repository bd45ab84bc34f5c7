// same_padding / valid_padding against TensorFlow's rule (tf.nn.conv2d, tf.nn.max_pool):
// same: out = ceil(in / stride), total = max((out - 1) * stride + kernel - in, 0),
// before = total / 2, after = the rest (the odd element goes bottom/right).
#include <catch2/catch.hpp>

#include "layers/same_padding.h"

using namespace mnistnet;

namespace {

struct Row {
  int64_t in, kernel, stride, out, before, after;
};

}  // namespace

TEST_CASE("same_padding follows TensorFlow's rule", "[padding]") {
  // Worked by hand from the rule above; the first rows are the codelab's convolution sizes.
  const Row rows[] = {
      {28, 6, 2, 14, 2, 2},  // total (13*2 + 6 - 28) = 4
      {28, 4, 2, 14, 1, 1},  // total 2
      {14, 5, 2, 7, 1, 2},   // total 3: the odd one after
      {14, 4, 2, 7, 1, 1},   // total 2
      {28, 6, 1, 28, 2, 3},  // total 5: the odd one after
      {28, 5, 1, 28, 2, 2}, {28, 3, 1, 28, 1, 1},
      {28, 2, 2, 14, 0, 0},  // pools that tile exactly need no padding
      {7, 2, 2, 4, 0, 1},    // 7 -> 4: one padded column after
      {5, 1, 3, 2, 0, 0},    // stride beyond the kernel: the negative total clamps to 0
      {3, 5, 1, 3, 2, 2},    // a kernel larger than the input
      {1, 3, 2, 1, 1, 1},   {1, 1, 1, 1, 0, 0},
  };
  for (const Row& r : rows) {
    INFO("in " << r.in << ", kernel " << r.kernel << ", stride " << r.stride);
    const Padding1D p = same_padding(r.in, r.kernel, r.stride);
    CHECK(p.out == r.out);
    CHECK(p.before == r.before);
    CHECK(p.after == r.after);
    // The padded input holds exactly the windows.
    CHECK((p.out - 1) * r.stride + r.kernel <= r.in + p.before + p.after);
  }
}

TEST_CASE("valid_padding fits whole windows only", "[padding]") {
  const Row rows[] = {
      {28, 6, 2, 12, 0, 0},  // (28 - 6) / 2 + 1
      {28, 5, 1, 24, 0, 0}, {28, 2, 2, 14, 0, 0},
      {14, 4, 2, 6, 0, 0},  {7, 2, 2, 3, 0, 0},  // the last row is dropped
      {3, 3, 1, 1, 0, 0},   {3, 3, 5, 1, 0, 0},
  };
  for (const Row& r : rows) {
    INFO("in " << r.in << ", kernel " << r.kernel << ", stride " << r.stride);
    const Padding1D p = valid_padding(r.in, r.kernel, r.stride);
    CHECK(p.out == r.out);
    CHECK(p.before == 0);
    CHECK(p.after == 0);
  }
  REQUIRE_THROWS_AS(valid_padding(2, 3, 1), ShapeError);
  REQUIRE_THROWS_WITH(valid_padding(2, 3, 1), Catch::Contains("window of 3") &&
                                                  Catch::Contains("input of 2") &&
                                                  Catch::Contains("\"same\""));
}
