#pragma once
// The grid of validation digits with their predicted labels, as in the codelab: misrecognised
// digits first, each label red when wrong.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "data/dataset.h"

namespace mnistnet {

constexpr int kGridColumns = 10;

// The examples the grid shows, at most `limit`: the misrecognised ones first (the codelab's
// "top unrecognised"), then recognised ones, each group in data set order.
// predicted must hold one class per example (std::invalid_argument otherwise).
std::vector<int64_t> grid_examples(const Dataset& data, const std::vector<int32_t>& predicted,
                                   size_t limit);

// One example as a greyscale PNG of its own size, black ink on white like the page around it
// (the IDX files store white ink on black).
std::vector<uint8_t> digit_png(const Dataset& data, int64_t index);

// predictions.png: the `shown` examples in rows of kGridColumns cells. Each cell holds the digit
// at twice its size, black on white, and under it the predicted label in a 3x5 pixel font
// (tripled): dark grey when right; red, with a red frame round the digit, when wrong, followed
// by the true label in brackets: "7 (2)".
std::vector<uint8_t> predictions_png(const Dataset& data, const std::vector<int32_t>& predicted,
                                     const std::vector<int64_t>& shown);

// The size predictions_png gives `count` cells of a data set with rows x cols images.
struct ImageSize {
  int width = 0, height = 0;
};
ImageSize predictions_png_size(int rows, int cols, size_t count);

}  // namespace mnistnet
