#pragma once
// Test helpers: a Dataset written out in every format mnistnet reads, as people have their
// data: Kaggle's CSV, Keras's .npz (stored or deflated), an image_dataset_from_directory folder
// of PNGs, and IDX (synthetic_idx.h). Also the conversion of a whole IDX data set (MNIST) for
// the measurements (test "[.convert]").
#include <zip.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "image/png_writer.h"
#include "synthetic_idx.h"

namespace mnistnet::testing {

// Kaggle's layout: "label,pixel0,...", one row per example; without labels no label column.
inline std::string csv_text(const Dataset& d, bool labels = true) {
  std::string out = labels ? "label" : "";
  const int64_t size = d.image_size();
  for (int64_t j = 0; j < size; ++j) {
    if (j > 0 || labels) out += ',';
    out += "pixel";
    out += std::to_string(j);
  }
  out += "\n";
  for (int64_t i = 0; i < d.count; ++i) {
    if (labels) out += std::to_string(d.labels[static_cast<size_t>(i)]);
    for (int64_t j = 0; j < size; ++j) {
      if (labels || j > 0) out += ',';
      out += std::to_string(d.pixels[static_cast<size_t>(i * size + j)]);
    }
    out += "\n";
  }
  return out;
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// A .npy array, format 1.0: the dict padded with spaces to a multiple of 64 bytes.
inline std::string npy_bytes(const std::string& descr, const std::vector<int64_t>& shape,
                             const std::string& data) {
  std::string dims;  // "3, 28, 28"; a 1-tuple keeps its comma: "3,"
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";
  std::string dict =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  const size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>(dict.size() >> 8);
  return out + dict + data;
}

inline std::string npy_images(const Dataset& d) {
  std::vector<int64_t> shape = {d.count, d.rows, d.cols};
  if (d.channels != 1) shape.push_back(d.channels);
  return npy_bytes("|u1", shape, std::string(d.pixels.begin(), d.pixels.end()));
}
inline std::string npy_labels(const Dataset& d) {
  return npy_bytes("|u1", {d.count}, std::string(d.labels.begin(), d.labels.end()));
}

// A zip of named members (libzip), each stored or deflated.
inline void write_zip(const std::filesystem::path& path,
                      const std::vector<std::pair<std::string, std::string>>& members,
                      bool deflate) {
  int error = 0;
  zip_t* zip = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  if (zip == nullptr) throw std::runtime_error("cannot create " + path.string());
  for (const auto& [name, bytes] : members) {
    zip_source_t* src = zip_source_buffer(zip, bytes.data(), bytes.size(), 0);
    const zip_int64_t index = zip_file_add(zip, name.c_str(), src, ZIP_FL_OVERWRITE);
    if (index < 0) throw std::runtime_error("cannot add " + name);
    zip_set_file_compression(zip, static_cast<zip_uint64_t>(index),
                             deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  if (zip_close(zip) != 0) throw std::runtime_error("cannot write " + path.string());
}

// Keras's mnist.npz: x_train, y_train, x_test, y_test.
inline void write_npz(const std::filesystem::path& path, const Dataset& train, const Dataset& test,
                      bool deflate) {
  write_zip(path,
            {{"x_train.npy", npy_images(train)},
             {"y_train.npy", npy_labels(train)},
             {"x_test.npy", npy_images(test)},
             {"y_test.npy", npy_labels(test)}},
            deflate);
}

// root/<class name>/<index>.png, classes named by d.class_names or "0".."9" (zero-padded
// file names keep the data set's order within each class).
inline void write_png_folder(const std::filesystem::path& root, const Dataset& d) {
  const auto size = static_cast<size_t>(d.image_size());
  for (int64_t i = 0; i < d.count; ++i) {
    const size_t label = d.labels[static_cast<size_t>(i)];
    const std::string cls =
        label < d.class_names.size() ? d.class_names[label] : std::to_string(label);
    std::filesystem::create_directories(root / cls);
    char name[32];
    std::snprintf(name, sizeof name, "%06lld.png", static_cast<long long>(i));
    write_png(root / cls / name, d.pixels.data() + static_cast<size_t>(i) * size, d.cols, d.rows,
              d.channels);
  }
}

// The examples of d sorted by label, stably: the order an image folder gives them.
inline Dataset sorted_by_label(const Dataset& d) {
  Dataset out = d;
  out.pixels.clear();
  out.labels.clear();
  const auto size = static_cast<size_t>(d.image_size());
  for (int c = 0; c < 256; ++c)
    for (int64_t i = 0; i < d.count; ++i)
      if (d.labels[static_cast<size_t>(i)] == c) {
        out.labels.push_back(static_cast<uint8_t>(c));
        out.pixels.insert(
            out.pixels.end(),
            d.pixels.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(i) * size),
            d.pixels.begin() + static_cast<std::ptrdiff_t>((static_cast<size_t>(i) + 1) * size));
      }
  return out;
}

}  // namespace mnistnet::testing
