#include "data/image_folder_source.h"

#include <algorithm>
#include <system_error>

#include "core/errors.h"
#include "core/parallel_for.h"
#include "image/image_decoder.h"
#include "image/resize.h"

namespace mnistnet {
namespace fs = std::filesystem;

namespace {

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

bool is_image_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".pgm" ||
         ext == ".ppm";
}

std::vector<fs::path> sorted_entries(const fs::path& dir, bool dirs) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    const bool d = it->is_directory(type_ec);
    if (dirs ? d : (!d && is_image_name(it->path()))) out.push_back(it->path());
  }
  if (ec) throw DataError(dir.string() + ": cannot list the folder: " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

// The split's root folder, or empty when the split is absent.
fs::path split_dir(const fs::path& path, const DataSpec& spec, Split split) {
  if (split == Split::train) {
    if (!spec.train.empty()) return path / spec.train;
    return is_dir(path / "train") ? path / "train" : path;
  }
  if (!spec.test.empty()) return path / spec.test;
  return spec.train.empty() && is_dir(path / "train") && is_dir(path / "test") ? path / "test"
                                                                               : fs::path();
}

std::string why_not(const fs::path& path, const DataSpec& spec) {
  const fs::path root = split_dir(path, spec, Split::train);
  if (!is_dir(root)) return root == path ? "does not exist" : "missing " + root.string();
  return sorted_entries(root, true).empty() ? "has no class folders" : "";
}

bool recognises(const fs::path& path, const DataSpec& spec) { return why_not(path, spec).empty(); }

bool has_test(const fs::path& path, const DataSpec& spec) {
  const fs::path test = split_dir(path, spec, Split::test);
  if (!test.empty() && !is_dir(test))
    throw DataError(test.string() + ": folder not found (data.test)");
  return !test.empty();
}

Dataset read(const fs::path& path, const DataSpec& spec, Split split, const ReadOptions& options) {
  const fs::path root = split_dir(path, spec, split);
  const std::vector<fs::path> class_dirs = sorted_entries(root, true);
  if (class_dirs.empty()) throw DataError(root.string() + ": has no class folders (<class>/*.png)");
  if (class_dirs.size() > static_cast<size_t>(options.num_classes))
    throw DataError(root.string() + ": " + std::to_string(class_dirs.size()) +
                    " class folders, but " + std::to_string(options.num_classes) + " class names");
  Dataset d;
  d.source = root.string();
  std::vector<fs::path> files;
  for (size_t c = 0; c < class_dirs.size(); ++c) {
    const std::vector<fs::path> images = sorted_entries(class_dirs[c], false);
    if (images.empty())
      throw DataError(class_dirs[c].string() +
                      ": empty class folder (no .png, .jpg, .jpeg, .bmp, .pgm or .ppm files)");
    files.insert(files.end(), images.begin(), images.end());
    d.labels.insert(d.labels.end(), images.size(), static_cast<uint8_t>(c));
    d.class_names.push_back(class_dirs[c].filename().string());
  }
  d.count = static_cast<int64_t>(files.size());
  d.channels = spec.color_mode == "rgb" ? 3 : 1;

  // The first image fixes the size when data.image_size does not.
  auto decode = [&](size_t i) {
    return decode_image(read_image_file(files[i]), files[i].string(), d.channels);
  };
  if (!spec.image_size.empty()) {
    d.rows = static_cast<int>(spec.image_size[0]);
    d.cols = static_cast<int>(spec.image_size[1]);
  } else {
    try {
      const PixelImage first = decode(0);
      d.rows = first.height;
      d.cols = first.width;
    } catch (const ImageError& e) {
      throw DataError(e.what());
    }
  }
  const auto size = static_cast<size_t>(d.image_size());
  d.pixels.resize(size * files.size());
  std::vector<std::string> errors(files.size());
  parallel_for(
      d.count,
      [&](int64_t begin, int64_t end) {
        for (auto i = static_cast<size_t>(begin); i < static_cast<size_t>(end); ++i) {
          try {
            const PixelImage image = decode(i);
            if (spec.image_size.empty() && (image.width != d.cols || image.height != d.rows)) {
              errors[i] = files[i].string() + ": the image is " + std::to_string(image.width) +
                          "x" + std::to_string(image.height) + ", " + files[0].string() + " is " +
                          std::to_string(d.cols) + "x" + std::to_string(d.rows) +
                          "; set data.image_size to resize them all";
              continue;
            }
            const std::vector<uint8_t> pixels = resize_image(
                image.pixels.data(), image.width, image.height, d.channels, d.cols, d.rows);
            std::copy(pixels.begin(), pixels.end(),
                      d.pixels.begin() + static_cast<std::ptrdiff_t>(i * size));
          } catch (const ImageError& e) {
            errors[i] = e.what();
          } catch (const std::bad_alloc&) {
            errors[i] = files[i].string() + ": not enough memory to decode the image";
          }
        }
      },
      64);
  for (const std::string& e : errors)
    if (!e.empty()) throw DataError(e);
  return d;
}

}  // namespace

DataReader image_folder_data_reader() {
  return {"image_folder", recognises, why_not, has_test, true, read};
}

}  // namespace mnistnet
