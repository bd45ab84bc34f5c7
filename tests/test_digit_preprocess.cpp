// Digit normalisation on synthetic drawings: whatever the canvas, colours and position, a shape
// ends up as MNIST has it: bright on black, 28x28, longer side 20, centre of mass at (14, 14).
#include <catch2/catch.hpp>
#include <cmath>

#include "image/digit_preprocess.h"
#include "image/resample.h"
#include "image_test_files.h"

using namespace mnistnet;
using namespace mnistnet::testing;
using Catch::Contains;

namespace {

struct Moments {
  double mass = 0, cx = 0, cy = 0;
  int x0 = kDigitSide, x1 = -1, y0 = kDigitSide, y1 = -1;  // ink bounding box, inclusive
  int peak = 0;
};

Moments moments(const DigitImage& d) {
  Moments m;
  for (int y = 0; y < kDigitSide; ++y)
    for (int x = 0; x < kDigitSide; ++x) {
      const int v = d.pixels[static_cast<size_t>(y * kDigitSide + x)];
      if (v == 0) continue;
      m.mass += v;
      m.cx += v * x;
      m.cy += v * y;
      m.x0 = std::min(m.x0, x);
      m.x1 = std::max(m.x1, x);
      m.y0 = std::min(m.y0, y);
      m.y1 = std::max(m.y1, y);
      m.peak = std::max(m.peak, v);
    }
  m.cx /= m.mass;
  m.cy /= m.mass;
  return m;
}

double mean_abs_diff(const DigitImage& a, const DigitImage& b) {
  double sum = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) sum += std::abs(a.pixels[i] - b.pixels[i]);
  return sum / static_cast<double>(a.pixels.size());
}

void check_mnist_like(const DigitImage& d) {
  const Moments m = moments(d);
  CHECK(m.peak == 255);
  CHECK(std::abs(m.cx - 14.0) <= 1.0);
  CHECK(std::abs(m.cy - 14.0) <= 1.0);
  // Ink inside the central 20x20, the longer side exactly 20.
  CHECK(m.x0 >= 4);
  CHECK(m.y0 >= 4);
  CHECK(m.x1 <= 23);
  CHECK(m.y1 <= 23);
  CHECK(std::max(m.x1 - m.x0, m.y1 - m.y0) + 1 == kDigitBox);
}

// A "0" drawn dark on light paper, 280x190, and the reference: the same "0" bright on black,
// smaller, on a canvas of another shape.
const RawImage kPaperRing = draw_glyph(280, 190, {90, 20, 105, 150}, Glyph::kRing, 20, 235);
const RawImage kScreenRing = draw_glyph(100, 120, {20, 25, 42, 60}, Glyph::kRing, 255, 0);

}  // namespace

TEST_CASE("Resample taps: area averages when shrinking, bilinear when enlarging", "[image]") {
  auto taps = resample_taps(4, 2);
  REQUIRE(taps.size() == 2);
  CHECK(taps[0].size() == 2);
  CHECK(taps[1][0].index == 2);
  CHECK(taps[1][1].weight == Approx(0.5));
  taps = resample_taps(3, 2);  // output 0 covers source [0, 1.5)
  REQUIRE(taps[0].size() == 2);
  CHECK(taps[0][0].weight == Approx(2.0 / 3));
  CHECK(taps[0][1].weight == Approx(1.0 / 3));
  CHECK(taps[1][0].index == 1);
  taps = resample_taps(5, 5);
  for (int i = 0; i < 5; ++i)
    CHECK((taps[static_cast<size_t>(i)].size() == 1 && taps[static_cast<size_t>(i)][0].index == i));
  taps = resample_taps(2, 4);  // centres at -0.25 (clamped), 0.25, 0.75, 1.25 (clamped)
  CHECK((taps[0].size() == 1 && taps[0][0].index == 0));
  CHECK(taps[1][0].weight == Approx(0.75));
  CHECK(taps[2][0].weight == Approx(0.25));
  CHECK((taps[3].size() == 1 && taps[3][0].index == 1));
  for (auto [in, out] : {std::pair{1000, 20}, {37, 20}, {20, 37}, {1, 20}, {20, 1}, {7, 3}}) {
    for (const auto& output : resample_taps(in, out)) {
      float sum = 0;
      for (const ResampleTap& t : output) {
        CHECK((t.index >= 0 && t.index < in));
        sum += t.weight;
      }
      CHECK(sum == Approx(1.0f));
    }
  }
}

TEST_CASE("A dark-on-light ring becomes an MNIST-like 28x28 matching the light-on-dark one",
          "[image]") {
  const DigitImage paper = preprocess_digit(as_grey(kPaperRing), "paper.png");
  const DigitImage screen = preprocess_digit(as_grey(kScreenRing), "screen.png");
  CHECK(paper.inverted);
  CHECK_FALSE(screen.inverted);
  CHECK(paper.ink_box.x0 == 90);
  CHECK(paper.ink_box.height == 150);
  check_mnist_like(paper);
  check_mnist_like(screen);
  CHECK(mean_abs_diff(paper, screen) < 6.0);
  CHECK(paper.pixels[0] == 0);
  CHECK(paper.pixels[14 * kDigitSide + 14] == 0);  // the hole stays a hole
}

TEST_CASE("A thick bar (a '1') keeps its aspect ratio and is centred", "[image]") {
  const DigitImage one = preprocess_digit(
      as_grey(draw_glyph(280, 190, {200, 30, 24, 130}, Glyph::kBar, 0, 255)), "1.png");
  check_mnist_like(one);
  const Moments m = moments(one);
  CHECK(m.y1 - m.y0 + 1 == 20);
  CHECK(m.x1 - m.x0 + 1 <= 5);  // 24/130 of 20 is 3.7 columns, edges anti-aliased
}

TEST_CASE("Position, faint noise and a grey low-contrast photo do not change the result",
          "[image]") {
  const DigitImage clean = preprocess_digit(as_grey(kPaperRing), "clean.png");
  // The same ring moved by whole pixels: identical.
  const DigitImage moved = preprocess_digit(
      as_grey(draw_glyph(280, 190, {10, 35, 105, 150}, Glyph::kRing, 20, 235)), "moved.png");
  CHECK(moved.pixels == clean.pixels);

  // Specks at 15% of the ink's contrast, all over the paper: below the noise threshold.
  RawImage specks = kPaperRing;
  for (size_t i = 0; i < specks.pixels.size(); i += 97)
    if (specks.pixels[i] == 235) specks.pixels[i] = 235 - 32;
  CHECK(preprocess_digit(as_grey(specks), "specks.png").pixels == clean.pixels);

  // Pencil on grey paper in dim light: contrast 60 instead of 215.
  const DigitImage dim = preprocess_digit(
      as_grey(draw_glyph(280, 190, {90, 20, 105, 150}, Glyph::kRing, 110, 170)), "dim.png");
  CHECK(dim.inverted);
  CHECK(mean_abs_diff(dim, clean) < 3.0);
}

TEST_CASE("Tiny and degenerate inks still give a centred 28x28", "[image]") {
  // A 3x3 dot: enlarged to 20x20.
  const DigitImage dot =
      preprocess_digit(as_grey(draw_glyph(50, 40, {30, 5, 3, 3}, Glyph::kBar, 255, 0)), "dot.png");
  check_mnist_like(dot);
  // A one-pixel line on a one-pixel-high image.
  RawImage line{300, 1, 1, std::vector<uint8_t>(300, 0)};
  for (int x = 100; x < 200; ++x) line.pixels[static_cast<size_t>(x)] = 200;
  const Moments m = moments(preprocess_digit(as_grey(line), "line.png"));
  CHECK(m.x1 - m.x0 + 1 == 20);
  CHECK(m.y0 == m.y1);
  CHECK(std::abs(m.cx - 14.0) <= 1.0);
}

TEST_CASE("Blank images are an error naming the file", "[image]") {
  const GreyImage white{40, 30, std::vector<uint8_t>(1200, 250)};
  CHECK_THROWS_WITH(
      preprocess_digit(white, "white.png"),
      Contains("white.png: no digit found: the image is blank or has almost no contrast"));
  GreyImage faint = white;
  faint.pixels[600] = 240;  // contrast 10
  CHECK_THROWS_AS(preprocess_digit(faint, "faint.png"), ImageError);
  CHECK_THROWS_AS(preprocess_digit(GreyImage{1, 1, {0}}, "one.png"), ImageError);
}
