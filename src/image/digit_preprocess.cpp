#include "image/digit_preprocess.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "image/image_error.h"

namespace mnistnet {

namespace {

constexpr double kNoiseFraction = 0.2;  // ink at most this share of the brightest is background
constexpr int kMinContrast = 24;        // less ink than this over the background: a blank image
constexpr int kLightBackground = 127;   // a border median above this is paper

using Histogram = std::array<int64_t, 256>;

// The median byte of the image's outer ring (first and last rows and columns).
int border_median(const GreyImage& image) {
  Histogram h{};
  int64_t count = 0;
  auto add = [&](int x, int y) {
    ++h[image.at(x, y)];
    ++count;
  };
  for (int x = 0; x < image.width; ++x) {
    add(x, 0);
    if (image.height > 1) add(x, image.height - 1);
  }
  for (int y = 1; y + 1 < image.height; ++y) {
    add(0, y);
    if (image.width > 1) add(image.width - 1, y);
  }
  int64_t seen = 0;
  for (int v = 0; v < 256; ++v) {
    seen += h[static_cast<size_t>(v)];
    if (2 * seen > count) return v;
  }
  return 255;
}

// Bounding box of the pixels whose byte maps to non-zero ink.
PixelBox ink_box(const GreyImage& image, const std::array<float, 256>& ink) {
  int x0 = image.width, x1 = -1, y0 = image.height, y1 = -1;
  for (int y = 0; y < image.height; ++y) {
    const uint8_t* row = &image.pixels[static_cast<size_t>(y) * static_cast<size_t>(image.width)];
    for (int x = 0; x < image.width; ++x) {
      if (ink[row[x]] > 0.0f) {
        x0 = std::min(x0, x);
        x1 = std::max(x1, x);
        y0 = std::min(y0, y);
        y1 = y;
      }
    }
  }
  return {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
}

}  // namespace

DigitImage preprocess_digit(const GreyImage& image, const std::string& name) {
  DigitImage digit;
  // 1. Which way round: ink bright, at `level` above the background.
  const int background = border_median(image);
  digit.inverted = background > kLightBackground;
  auto ink_level = [&](int byte) {
    const int ink = digit.inverted ? 255 - byte : byte;
    const int paper = digit.inverted ? 255 - background : background;
    return std::max(0, ink - paper);
  };
  Histogram present{};
  for (uint8_t p : image.pixels) ++present[p];
  int brightest = 0;
  for (int v = 0; v < 256; ++v)
    if (present[static_cast<size_t>(v)] > 0) brightest = std::max(brightest, ink_level(v));
  if (brightest < kMinContrast) {
    throw ImageError(name + ": no digit found: the image is blank or has almost no contrast");
  }

  // 2. Byte -> ink in 0..255, noise removed. A table, so large images are read once per pass.
  std::array<float, 256> ink{};
  for (int v = 0; v < 256; ++v) {
    const int level = ink_level(v);
    if (level > kNoiseFraction * brightest) {
      ink[static_cast<size_t>(v)] =
          255.0f * static_cast<float>(level) / static_cast<float>(brightest);
    }
  }

  // 3. Crop and scale the longer side to kDigitBox: patch [h, w].
  digit.ink_box = ink_box(image, ink);
  const PixelBox& box = digit.ink_box;
  const double scale = static_cast<double>(kDigitBox) / std::max(box.width, box.height);
  const int w = std::clamp(static_cast<int>(std::lround(box.width * scale)), 1, kDigitBox);
  const int h = std::clamp(static_cast<int>(std::lround(box.height * scale)), 1, kDigitBox);
  std::vector<float> patch = resize_region(image, box, ink, w, h);
  const float peak = *std::max_element(patch.begin(), patch.end());
  if (peak > 0.0f)
    for (float& p : patch) p *= 255.0f / peak;

  // 4. Centre of mass (pixel-index coordinates) to (14, 14), by whole pixels.
  double mass = 0.0, mx = 0.0, my = 0.0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double v = patch[static_cast<size_t>(y * w + x)];
      mass += v;
      mx += v * x;
      my += v * y;
    }
  if (!(mass > 0.0)) throw ImageError(name + ": no digit found after scaling");  // not expected
  // A symmetric digit of even size has its centre at x.5, a tie between two shifts; aiming just
  // short of 14 breaks it towards the smaller, which keeps a 20-pixel digit in the central
  // 20x20 box (MNIST's 20-row digits start at row 4 or 5 about equally often).
  const double centre = kDigitSide / 2 - 1e-3;
  const int ox = std::clamp(static_cast<int>(std::lround(centre - mx / mass)), 0, kDigitSide - w);
  const int oy = std::clamp(static_cast<int>(std::lround(centre - my / mass)), 0, kDigitSide - h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float v = std::clamp(std::round(patch[static_cast<size_t>(y * w + x)]), 0.0f, 255.0f);
      digit.pixels[static_cast<size_t>((oy + y) * kDigitSide + ox + x)] = static_cast<uint8_t>(v);
    }
  return digit;
}

}  // namespace mnistnet
