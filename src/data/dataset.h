#pragma once
// An image-classification data set held in memory as its files store it: uint8 pixels, NHWC.
#include <cstdint>
#include <string>
#include <vector>

namespace mnistnet {

struct Dataset {
  int64_t count = 0;            // number of examples
  int rows = 0, cols = 0;       // image size
  int channels = 1;             // 1 (grey) or 3 (RGB); one example is rows*cols*channels bytes
  std::vector<uint8_t> pixels;  // [count, rows, cols, channels], row-major
  std::vector<uint8_t> labels;  // [count], each < num_classes()
  // Class names in label order, from the data (folder names, a mapping file) or the reader's
  // defaults ("0".."9"); its size is the number of classes.
  std::vector<std::string> class_names;
  std::string source;  // the file or directory it was read from, for messages

  int64_t image_size() const { return int64_t{rows} * cols * channels; }
  int num_classes() const { return static_cast<int>(class_names.size()); }
};

}  // namespace mnistnet
