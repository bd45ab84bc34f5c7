// The report and file details a first hour runs into: an axis that extends when the codelab's
// zoom would hide the data, predictions.png naming a wrong digit's true label, and images of
// formats predict does not read named as such.
#include <stb_image.h>

#include <catch2/catch.hpp>

#include "image/format_check.h"
#include "image/image_decoder.h"
#include "image/image_error.h"
#include "report/digit_grid.h"
#include "report/training_charts.h"

using namespace mnistnet;
using Catch::Contains;

namespace {

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

RunHistory one_epoch(double loss, double accuracy, double val_loss, double val_accuracy) {
  RunHistory h;
  h.name = "dense1";
  EpochResult e;
  e.epoch = 0, e.loss = loss, e.accuracy = accuracy, e.val_loss = val_loss,
  e.val_accuracy = val_accuracy, e.lr = 0.01;
  h.epochs = {e};
  for (int64_t step = 1; step <= 10; ++step)
    h.batches.push_back({0, step, loss + 0.1 * static_cast<double>(10 - step), accuracy});
  return h;
}

}  // namespace

TEST_CASE("A one-epoch run's training values stay on the axes", "[report][zoom]") {
  // dense1 after one epoch: training loss 1.29 sat above the codelab's 1.2 cap.
  const TrainingCharts c = training_charts({one_epoch(1.29, 0.68, 0.61, 0.86)});
  CHECK(c.loss.y_max >= 1.29 / 0.92);
  CHECK(c.accuracy.y_min <= 0.68);
  // A run of several epochs keeps the codelab's zoom: the first epoch's average may clip.
  RunHistory longer = one_epoch(1.29, 0.68, 0.4, 0.9);
  EpochResult second = longer.epochs[0];
  second.epoch = 1, second.loss = 0.45, second.accuracy = 0.88;
  longer.epochs.push_back(second);
  CHECK(training_charts({longer}).loss.y_max == Approx(0.6));
}

TEST_CASE("predictions.png writes a wrong digit's true label after the prediction",
          "[report][digits]") {
  Dataset data;
  data.count = 2, data.rows = 28, data.cols = 28;
  data.pixels.assign(2 * 28 * 28, 0);
  data.labels = {2, 3};
  const std::vector<uint8_t> png = predictions_png(data, {7, 3}, {0, 1});
  int width = 0, height = 0, channels = 0;
  uint8_t* pixels = stbi_load_from_memory(png.data(), static_cast<int>(png.size()), &width, &height,
                                          &channels, 3);
  REQUIRE(pixels != nullptr);
  const int cell_w = width / kGridColumns, label_top = 28 * 2 + 8;
  // In each cell's label row: the x range of red and of dark grey (60, 60, 60) pixels.
  auto spans = [&](int cell) {
    int red_max = -1, dark_min = width, dark = 0, red = 0;
    for (int y = label_top; y < height; ++y)
      for (int x = cell * cell_w; x < (cell + 1) * cell_w; ++x) {
        const uint8_t* p =
            pixels +
            (static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)) * 3;
        if (p[0] > 180 && p[1] < 80) red_max = std::max(red_max, x), ++red;
        if (p[0] == 60 && p[1] == 60 && p[2] == 60) dark_min = std::min(dark_min, x), ++dark;
      }
    return std::array<int, 4>{red, dark, red_max, dark_min};
  };
  const auto wrong = spans(0), right = spans(1);
  CHECK(wrong[0] > 0);         // "7" in red
  CHECK(wrong[1] > 0);         // "(2)" in dark grey
  CHECK(wrong[2] < wrong[3]);  // after it
  CHECK(right[0] == 0);        // a right one: its label alone, dark
  CHECK(right[1] > 0);
  CHECK(right[1] < wrong[1]);  // one digit, not three glyphs
  stbi_image_free(pixels);
}

TEST_CASE("Images of formats predict does not read are named", "[image][errors]") {
  CHECK(unread_format_name(bytes_of("GIF89a\x01\x00")) == "GIF");
  CHECK(unread_format_name(bytes_of(std::string("II*\0", 4))) == "TIFF");
  CHECK(unread_format_name(bytes_of(std::string("RIFF\x10\x00\x00\x00WEBPVP8 ", 16))) == "WebP");
  CHECK(unread_format_name(bytes_of("P2\n3 3\n255\n")).rfind("plain-text", 0) == 0);
  CHECK(unread_format_name(bytes_of("hello")).empty());
  try {
    (void)decode_grey_image(bytes_of("GIF89a\x01\x00\x01\x00"), "digit.gif");
    FAIL("no error");
  } catch (const ImageError& e) {
    CHECK(std::string(e.what()) ==
          "digit.gif: not a readable image (PNG, JPEG, BMP or PGM expected): this is GIF; "
          "convert it to PNG first");
  }
}
