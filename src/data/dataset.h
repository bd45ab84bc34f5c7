#pragma once
// An image-classification data set held in memory as the IDX files store it: uint8 pixels.
#include <cstdint>
#include <vector>

namespace mnistnet {

struct Dataset {
  int64_t count = 0;            // number of examples
  int rows = 0, cols = 0;       // image size; one example is rows*cols bytes
  std::vector<uint8_t> pixels;  // [count, rows, cols], row-major
  std::vector<uint8_t> labels;  // [count], each < num_classes

  int64_t image_size() const { return int64_t{rows} * cols; }
};

}  // namespace mnistnet
