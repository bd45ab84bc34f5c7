#include "report/digit_grid.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "report/pixel_font.h"
#include "report/png_encode.h"

namespace mnistnet {

namespace {

constexpr int kScale = 2;       // digits are drawn at twice their size
constexpr int kGlyphScale = 3;  // label glyphs at three times theirs (9x15 pixels)
constexpr int kPad = 4;         // white space round each digit; the red frame sits in it
constexpr int kFrame = 2;
constexpr int kLabelHeight = kGlyphHeight * kGlyphScale + 6;

struct Rgb {
  uint8_t r, g, b;
};
constexpr Rgb kRed{214, 39, 40}, kDark{60, 60, 60};

struct Canvas {
  int width, height;
  std::vector<uint8_t> rgb;  // [height, width, 3]

  void set(int x, int y, Rgb c) {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    uint8_t* p =
        &rgb[(static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)) * 3];
    p[0] = c.r, p[1] = c.g, p[2] = c.b;
  }
  void fill(int x0, int y0, int w, int h, Rgb c) {
    for (int y = y0; y < y0 + h; ++y)
      for (int x = x0; x < x0 + w; ++x) set(x, y, c);
  }
};

// Parentheses beside the digits of pixel_font.h, same 3x5 grid: bit 2 is the left pixel.
constexpr uint8_t kOpenParen[kGlyphHeight] = {1, 2, 2, 2, 1},
                  kCloseParen[kGlyphHeight] = {4, 2, 2, 2, 4};

constexpr int kAdvance = (kGlyphWidth + 1) * kGlyphScale;

int text_width(const std::string& text) {
  return static_cast<int>(text.size()) * kAdvance - kGlyphScale;
}

// Digits, spaces and parentheses from x, top at y; returns the x after them.
int draw_text(Canvas& canvas, const std::string& text, int x, int y, Rgb colour) {
  for (char ch : text) {
    for (int gy = 0; gy < kGlyphHeight; ++gy)
      for (int gx = 0; gx < kGlyphWidth; ++gx) {
        const int bit = kGlyphWidth - 1 - gx;
        const bool on = ch >= '0' && ch <= '9' ? glyph_pixel(ch - '0', gx, gy)
                        : ch == '('            ? (kOpenParen[gy] >> bit) & 1
                        : ch == ')'            ? (kCloseParen[gy] >> bit) & 1
                                               : false;
        if (on)
          canvas.fill(x + gx * kGlyphScale, y + gy * kGlyphScale, kGlyphScale, kGlyphScale, colour);
      }
    x += kAdvance;
  }
  return x;
}

// The predicted label centred on cx, top at y; a wrong one in red with the true label after it
// in brackets, as the report's page shows it: "7 (2)".
void draw_label(Canvas& canvas, int predicted, int truth, int cx, int y) {
  const std::string guess = std::to_string(predicted);
  const std::string rest = predicted == truth ? "" : " (" + std::to_string(truth) + ")";
  const int x = cx - text_width(guess + rest) / 2;
  draw_text(canvas, rest, draw_text(canvas, guess, x, y, rest.empty() ? kDark : kRed), y, kDark);
}

void check_predicted(const Dataset& data, const std::vector<int32_t>& predicted) {
  if (predicted.size() != static_cast<size_t>(data.count))
    throw std::invalid_argument("digit grid: " + std::to_string(predicted.size()) +
                                " predictions for " + std::to_string(data.count) + " examples");
}

}  // namespace

std::vector<int64_t> grid_examples(const Dataset& data, const std::vector<int32_t>& predicted,
                                   size_t limit) {
  check_predicted(data, predicted);
  std::vector<int64_t> wrong, right;
  for (int64_t i = 0; i < data.count; ++i) {
    const auto u = static_cast<size_t>(i);
    if (predicted[u] != data.labels[u]) {
      if (wrong.size() < limit) wrong.push_back(i);
    } else if (right.size() < limit) {
      right.push_back(i);
    }
  }
  const size_t fill = std::min(limit - wrong.size(), right.size());
  wrong.insert(wrong.end(), right.begin(), right.begin() + static_cast<std::ptrdiff_t>(fill));
  return wrong;
}

namespace {

// The colour of pixel (x, y) of an example as drawn: grey images inverted (white ink on black
// in the data, black on white on the page), colour images as they are.
Rgb pixel_colour(const Dataset& data, const uint8_t* src, int x, int y) {
  if (data.channels == 3) {
    const uint8_t* p = src + (y * data.cols + x) * 3;
    return {p[0], p[1], p[2]};
  }
  const auto v = static_cast<uint8_t>(255 - src[(y * data.cols + x) * data.channels]);
  return {v, v, v};
}

}  // namespace

std::vector<uint8_t> digit_png(const Dataset& data, int64_t index) {
  const auto size = static_cast<size_t>(data.image_size());
  const uint8_t* src = &data.pixels[static_cast<size_t>(index) * size];
  const int channels = data.channels == 3 ? 3 : 1;
  std::vector<uint8_t> out(static_cast<size_t>(data.rows * data.cols * channels));
  for (int y = 0; y < data.rows; ++y)
    for (int x = 0; x < data.cols; ++x) {
      const Rgb c = pixel_colour(data, src, x, y);
      uint8_t* p = &out[static_cast<size_t>((y * data.cols + x) * channels)];
      p[0] = c.r;
      if (channels == 3) p[1] = c.g, p[2] = c.b;
    }
  return encode_png(out.data(), data.cols, data.rows, channels);
}

ImageSize predictions_png_size(int rows, int cols, size_t count) {
  const int cell_w = cols * kScale + 2 * kPad, cell_h = rows * kScale + 2 * kPad + kLabelHeight;
  const auto grid_rows =
      static_cast<int>((std::max<size_t>(count, 1) + kGridColumns - 1) / kGridColumns);
  return {cell_w * kGridColumns, cell_h * grid_rows};
}

std::vector<uint8_t> predictions_png(const Dataset& data, const std::vector<int32_t>& predicted,
                                     const std::vector<int64_t>& shown) {
  check_predicted(data, predicted);
  const ImageSize size = predictions_png_size(data.rows, data.cols, shown.size());
  const int cell_w = data.cols * kScale + 2 * kPad,
            cell_h = data.rows * kScale + 2 * kPad + kLabelHeight;
  Canvas canvas{size.width, size.height,
                std::vector<uint8_t>(
                    static_cast<size_t>(size.width) * static_cast<size_t>(size.height) * 3, 255)};
  const auto image_size = static_cast<size_t>(data.image_size());
  for (size_t n = 0; n < shown.size(); ++n) {
    const auto i = static_cast<size_t>(shown[n]);
    const int x0 = static_cast<int>(n % kGridColumns) * cell_w,
              y0 = static_cast<int>(n / kGridColumns) * cell_h;
    const bool wrong = predicted[i] != data.labels[i];
    if (wrong) {
      canvas.fill(x0 + kPad - kFrame, y0 + kPad - kFrame, data.cols * kScale + 2 * kFrame,
                  data.rows * kScale + 2 * kFrame, kRed);
    }
    const uint8_t* src = &data.pixels[i * image_size];
    for (int y = 0; y < data.rows; ++y)
      for (int x = 0; x < data.cols; ++x)
        canvas.fill(x0 + kPad + x * kScale, y0 + kPad + y * kScale, kScale, kScale,
                    pixel_colour(data, src, x, y));
    draw_label(canvas, predicted[i], data.labels[i], x0 + cell_w / 2,
               y0 + 2 * kPad + data.rows * kScale);
  }
  return encode_png(canvas.rgb.data(), canvas.width, canvas.height, 3);
}

}  // namespace mnistnet
