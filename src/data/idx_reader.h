#pragma once
// Readers for the IDX files MNIST-style data sets ship in (http://yann.lecun.com/exdb/mnist/
// format): a big-endian header (magic 0x00 0x00 0x08 <ndims>, then ndims uint32 sizes) followed by
// unsigned bytes. Gzip-compressed and raw files are both accepted (zlib reads either).
// Every problem with a file throws DataError with one line "<path>: byte <offset>: <what>",
// offsets counted in the decompressed stream.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace mnistnet {

struct IdxImages {
  int64_t count = 0;            // number of images (header dim 0)
  int rows = 0, cols = 0;       // header dims 1 and 2
  int channels = 1;             // header dim 3 of an idx4 file, else 1
  std::vector<uint8_t> pixels;  // [count, rows, cols, channels]
};

// An images file: magic 0x00000803, dims count (1..2^31), rows, cols (1..4096), then exactly
// count*rows*cols bytes; or magic 0x00000804 with a fourth dim, channels (1..4).
IdxImages read_idx_images(const std::filesystem::path& path);

// A labels file: magic 0x00000801, dim count (1..2^31), then exactly count bytes, each
// < num_classes (1..256); or QMNIST's idx2-int: magic 0x00000c02, dims count and k, then count
// rows of k big-endian int32, whose first column is the class.
std::vector<uint8_t> read_idx_labels(const std::filesystem::path& path, int num_classes = 10);

// The same for a file's bytes already in memory (raw or gzip); `name` stands for the path in
// messages.
IdxImages parse_idx_images(std::span<const uint8_t> bytes, const std::string& name);
std::vector<uint8_t> parse_idx_labels(std::span<const uint8_t> bytes, const std::string& name,
                                      int num_classes = 10);

struct IdxLabelOptions {
  int num_classes = 10;  // 1..256; labels (after the offset) must be below it
  int label_offset = 0;  // subtracted from every stored label (EMNIST letters: 1)
};

// Both files of one split; their counts must agree. Headers are compared before any data is read.
Dataset read_idx_pair(const std::filesystem::path& images_path,
                      const std::filesystem::path& labels_path, int num_classes = 10);
Dataset read_idx_pair(const std::filesystem::path& images_path,
                      const std::filesystem::path& labels_path, const IdxLabelOptions& options);

}  // namespace mnistnet
