#pragma once
// A 3x5 pixel font for the digits 0-9, so predictions.png can carry labels without a font
// library.
#include <cstdint>

namespace mnistnet {

constexpr int kGlyphWidth = 3, kGlyphHeight = 5;

// Row r (0 = top) of digit d: bit 2 is the left pixel, bit 0 the right one.
constexpr uint8_t kDigitGlyphs[10][kGlyphHeight] = {
    {7, 5, 5, 5, 7},  // 0
    {2, 6, 2, 2, 7},  // 1
    {7, 1, 7, 4, 7},  // 2
    {7, 1, 3, 1, 7},  // 3
    {5, 5, 7, 1, 1},  // 4
    {7, 4, 7, 1, 7},  // 5
    {7, 4, 7, 5, 7},  // 6
    {7, 1, 1, 2, 2},  // 7
    {7, 5, 7, 5, 7},  // 8
    {7, 5, 7, 1, 7},  // 9
};

inline bool glyph_pixel(int digit, int x, int y) {
  return (kDigitGlyphs[digit][y] >> (kGlyphWidth - 1 - x)) & 1;
}

}  // namespace mnistnet
