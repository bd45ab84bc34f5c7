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
  std::vector<uint8_t> pixels;  // [count, rows, cols]
};

// An images file: magic 0x00000803, dims count (1..2^31), rows, cols (1..4096), then exactly
// count*rows*cols bytes.
IdxImages read_idx_images(const std::filesystem::path& path);

// A labels file: magic 0x00000801, dim count (1..2^31), then exactly count bytes, each
// < num_classes (1..256).
std::vector<uint8_t> read_idx_labels(const std::filesystem::path& path, int num_classes = 10);

// The same for a file's bytes already in memory (raw or gzip); `name` stands for the path in
// messages.
IdxImages parse_idx_images(std::span<const uint8_t> bytes, const std::string& name);
std::vector<uint8_t> parse_idx_labels(std::span<const uint8_t> bytes, const std::string& name,
                                      int num_classes = 10);

// Both files of one split; their counts must agree. Headers are compared before any data is read.
Dataset read_idx_pair(const std::filesystem::path& images_path,
                      const std::filesystem::path& labels_path, int num_classes = 10);

}  // namespace mnistnet
