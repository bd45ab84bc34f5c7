#pragma once
// Test helpers: small IDX files written on the fly (gzip or raw), a deterministic pixel/label
// pattern to check them against, and a scratch directory that removes itself.
//
//   TempDir dir;                                                  // unique, removed at scope end
//   write_synthetic_dataset(dir.path, 50, 20);                    // the 4 MNIST files, gzip
//   Dataset d = synthetic_dataset(50);                            // what the train files hold
//   write_idx_images(dir.path / "x.gz", 2, 3, 3, pixels, true);   // any content
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/rng.h"
#include "data/dataset.h"

namespace mnistnet::testing {

// The synthetic pattern: pixel j of example i, and its label.
inline uint8_t synthetic_pixel(int64_t i, int64_t j) {
  return static_cast<uint8_t>((i * 31 + j * 7) % 256);
}
inline uint8_t synthetic_label(int64_t i, int num_classes = 10) {
  return static_cast<uint8_t>(i % num_classes);
}

// An in-memory Dataset with the synthetic pattern.
inline Dataset synthetic_dataset(int64_t count, int rows = 28, int cols = 28,
                                 int num_classes = 10) {
  Dataset d;
  d.count = count;
  d.rows = rows;
  d.cols = cols;
  const int64_t size = d.image_size();
  d.pixels.resize(static_cast<size_t>(count * size));
  d.labels.resize(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    for (int64_t j = 0; j < size; ++j)
      d.pixels[static_cast<size_t>(i * size + j)] = synthetic_pixel(i, j);
    d.labels[static_cast<size_t>(i)] = synthetic_label(i, num_classes);
  }
  return d;
}

inline void append_big_endian(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

// The bytes of an IDX images / labels file (header + data), before any compression.
inline std::vector<uint8_t> idx_images_bytes(uint32_t count, uint32_t rows, uint32_t cols,
                                             const std::vector<uint8_t>& pixels) {
  std::vector<uint8_t> out{0, 0, 0x08, 3};
  append_big_endian(out, count);
  append_big_endian(out, rows);
  append_big_endian(out, cols);
  out.insert(out.end(), pixels.begin(), pixels.end());
  return out;
}
inline std::vector<uint8_t> idx_labels_bytes(const std::vector<uint8_t>& labels) {
  std::vector<uint8_t> out{0, 0, 0x08, 1};
  append_big_endian(out, static_cast<uint32_t>(labels.size()));
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

// Writes bytes as they are, or gzip-compressed.
inline void write_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes,
                        bool gzip) {
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb");
    if (f == nullptr) throw std::runtime_error("cannot write " + path.string());
    const int wrote =
        bytes.empty() ? 0 : gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    if (gzclose(f) != Z_OK || wrote != static_cast<int>(bytes.size())) {
      throw std::runtime_error("cannot write " + path.string());
    }
    return;
  }
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// A file's bytes as stored (still compressed for a .gz), e.g. to corrupt or truncate it.
inline std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// pixels: [count, rows, cols]. The header states count/rows/cols as given, whatever pixels holds.
inline void write_idx_images(const std::filesystem::path& path, int64_t count, int rows, int cols,
                             const std::vector<uint8_t>& pixels, bool gzip) {
  write_bytes(path,
              idx_images_bytes(static_cast<uint32_t>(count), static_cast<uint32_t>(rows),
                               static_cast<uint32_t>(cols), pixels),
              gzip);
}
inline void write_idx_labels(const std::filesystem::path& path, const std::vector<uint8_t>& labels,
                             bool gzip) {
  write_bytes(path, idx_labels_bytes(labels), gzip);
}

// "<prefix>-images-idx3-ubyte[.gz]" and "<prefix>-labels-idx1-ubyte[.gz]" in dir, holding
// synthetic_dataset(count, rows, cols, num_classes). prefix is "train" or "t10k".
inline void write_synthetic_split(const std::filesystem::path& dir, const std::string& prefix,
                                  int64_t count, bool gzip = true, int rows = 28, int cols = 28,
                                  int num_classes = 10) {
  const Dataset d = synthetic_dataset(count, rows, cols, num_classes);
  const std::string ext = gzip ? ".gz" : "";
  write_idx_images(dir / (prefix + "-images-idx3-ubyte" + ext), count, rows, cols, d.pixels, gzip);
  write_idx_labels(dir / (prefix + "-labels-idx1-ubyte" + ext), d.labels, gzip);
}

// All four files of an MNIST-style data set directory (created if needed).
inline void write_synthetic_dataset(const std::filesystem::path& dir, int64_t train_count = 60,
                                    int64_t test_count = 20, bool gzip = true, int rows = 28,
                                    int cols = 28) {
  std::filesystem::create_directories(dir);
  write_synthetic_split(dir, "train", train_count, gzip, rows, cols);
  write_synthetic_split(dir, "t10k", test_count, gzip, rows, cols);
}

// A fresh directory under the system temp dir, removed with everything in it at scope end.
struct TempDir {
  std::filesystem::path path;

  TempDir() {
    static std::atomic<int> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    for (;;) {
      path = std::filesystem::temp_directory_path() /
             ("mnistnet-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
              "-" + std::to_string(stamp));
      if (std::filesystem::create_directory(path)) break;
    }
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// Class c is a bright horizontal band at rows 2c+4 .. 2c+6 over random dim noise, written as
// gzip IDX files DIR/PREFIX-{images,labels}-...: a dense network learns it in an epoch or two,
// a broken one does not, and different settings end with different accuracies.
inline void write_band_split(const std::filesystem::path& dir, const std::string& prefix,
                             int64_t count, uint64_t seed) {
  Rng rng(seed);
  std::vector<uint8_t> pixels(static_cast<size_t>(count * 784)), labels(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const auto label = static_cast<int>(rng.below(10));
    labels[static_cast<size_t>(i)] = static_cast<uint8_t>(label);
    for (int r = 0; r < 28; ++r)
      for (int c = 0; c < 28; ++c) {
        const bool band = r >= 2 * label + 4 && r < 2 * label + 6;
        pixels[static_cast<size_t>(i * 784 + r * 28 + c)] =
            static_cast<uint8_t>(band ? 160 + rng.below(96) : rng.below(90));
      }
  }
  write_idx_images(dir / (prefix + "-images-idx3-ubyte.gz"), count, 28, 28, pixels, true);
  write_idx_labels(dir / (prefix + "-labels-idx1-ubyte.gz"), labels, true);
}

}  // namespace mnistnet::testing
