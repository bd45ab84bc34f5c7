#include "data/idx_source.h"

#include <system_error>

#include "data/data_locator.h"
#include "data/idx_reader.h"

namespace mnistnet {
namespace fs = std::filesystem;

namespace {

std::string train_prefix(const DataSpec& spec) { return spec.train.empty() ? "train" : spec.train; }
std::string test_prefix(const DataSpec& spec) { return spec.test.empty() ? "t10k" : spec.test; }

std::string why_not(const fs::path& path, const DataSpec& spec) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return "does not exist";
  const auto missing = missing_idx_files(path, train_prefix(spec), test_prefix(spec));
  std::string out;
  for (const auto& m : missing) out += (out.empty() ? "missing " : ", ") + m;
  return out;
}

bool recognises(const fs::path& path, const DataSpec& spec) { return why_not(path, spec).empty(); }

bool has_test(const fs::path& /*path*/, const DataSpec& /*spec*/) { return true; }

Dataset read(const fs::path& dir, const DataSpec& spec, Split split, const ReadOptions& options) {
  const std::string prefix = split == Split::train ? train_prefix(spec) : test_prefix(spec);
  Dataset data = read_idx_pair(idx_file_path(dir, prefix + "-images-idx3-ubyte"),
                               idx_file_path(dir, prefix + "-labels-idx1-ubyte"),
                               IdxLabelOptions{options.num_classes, spec.label_offset});
  if (spec.transpose) transpose_images(data);
  data.source = (dir / prefix).string();
  return data;
}

}  // namespace

void transpose_images(Dataset& data) {
  const auto rows = static_cast<size_t>(data.rows), cols = static_cast<size_t>(data.cols),
             c = static_cast<size_t>(data.channels);
  std::vector<uint8_t> image(rows * cols * c);
  for (int64_t n = 0; n < data.count; ++n) {
    uint8_t* src = data.pixels.data() + static_cast<size_t>(n) * image.size();
    for (size_t y = 0; y < rows; ++y)
      for (size_t x = 0; x < cols; ++x)
        for (size_t k = 0; k < c; ++k) image[(x * rows + y) * c + k] = src[(y * cols + x) * c + k];
    std::copy(image.begin(), image.end(), src);
  }
  std::swap(data.rows, data.cols);
}

DataReader idx_data_reader() { return {"idx", recognises, why_not, has_test, false, read}; }

}  // namespace mnistnet
