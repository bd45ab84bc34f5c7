// The table of readers, how a spec finds its reader and files, and the class names.
#include "data/data_source.h"

#include <algorithm>
#include <fstream>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "core/errors.h"
#include "core/rng.h"
#include "data/csv_source.h"
#include "data/data_locator.h"
#include "data/idx_source.h"
#include "data/image_folder_source.h"
#include "data/npz_source.h"

namespace mnistnet {
namespace fs = std::filesystem;

const std::vector<DataReader>& data_readers() {
  // Auto-detection tries these in order; IDX first, as the shipped configs have it.
  static const std::vector<DataReader> readers = {idx_data_reader(), csv_data_reader(),
                                                  npz_data_reader(), image_folder_data_reader()};
  return readers;
}

const DataReader& data_reader(const std::string& format) {
  for (const DataReader& r : data_readers())
    if (format == r.format) return r;
  throw std::invalid_argument("data_reader: unknown format '" + format + "'");
}

DataLocation locate_data(const DataSpec& spec) {
  DataLocation out;
  if (!spec.format.empty()) {
    out.reader = &data_reader(spec.format);
    out.path = find_data_path(spec.dataset, spec.path,
                              [&](const fs::path& p) { return out.reader->why_not(p, spec); });
    return out;
  }
  // No format: the first reader that recognises the place; the message of a place none
  // recognises is IDX's (the default format), unless the place is a file.
  out.path = find_data_path(spec.dataset, spec.path, [&](const fs::path& p) -> std::string {
    for (const DataReader& r : data_readers())
      if (r.recognises(p, spec)) return "";
    std::error_code ec;
    if (fs::is_regular_file(p, ec))
      return "not a file mnistnet reads (.csv or .npz; or set data.format)";
    return data_readers().front().why_not(p, spec);
  });
  for (const DataReader& r : data_readers()) {
    if (r.recognises(out.path, spec)) {
      out.reader = &r;
      break;
    }
  }
  return out;
}

namespace {

std::vector<std::string> numbered_names(int count) {
  std::vector<std::string> names;
  for (int i = 0; i < count; ++i) names.push_back(std::to_string(i));
  return names;
}

int max_label(const Dataset& d) {
  return d.labels.empty() ? -1 : *std::max_element(d.labels.begin(), d.labels.end());
}

}  // namespace

std::vector<std::string> known_class_names(const std::string& dataset) {
  if (dataset == "mnist" || dataset == "qmnist" || dataset == "kaggle_digits")
    return numbered_names(10);
  if (dataset == "fashion-mnist" || dataset == "fashion_mnist")
    return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  if (dataset == "kmnist")  // KMNIST's classmap.csv
    return {"お", "き", "す", "つ", "な", "は", "ま", "や", "れ", "を"};
  return {};
}

std::vector<std::string> read_classes_file(const fs::path& path, int label_offset) {
  std::ifstream in(path);
  if (!in) throw DataError(path.string() + ": cannot open the classes file");
  std::vector<std::string> names;
  std::string line;
  int line_number = 0;
  bool mapping = false;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::istringstream fields(line);
    long label = 0, code = 0;
    // EMNIST's "<label> <code point> [<code point>]": names from the code points.
    if (line_number == 1) mapping = static_cast<bool>(fields >> label >> code);
    if (!mapping) {
      names.push_back(line);
      continue;
    }
    fields.clear();
    fields.str(line);
    std::vector<long> codes;
    if (!(fields >> label)) label = -1;
    for (long c = 0; fields >> c;) codes.push_back(c);
    const long index = label - label_offset;
    const bool bad =
        !fields.eof() || codes.empty() || index < 0 || index > 255 ||
        std::any_of(codes.begin(), codes.end(), [](long c) { return c < 32 || c > 0x10ffff; });
    if (bad || static_cast<size_t>(index) != names.size()) {
      throw DataError(path.string() + ": line " + std::to_string(line_number) +
                      ": expected \"<label> <code point> [<code point>]\" with label " +
                      std::to_string(names.size() + static_cast<size_t>(label_offset)) +
                      " (labels in order from data.label_offset), got \"" + line + "\"");
    }
    std::string name;
    for (size_t i = 0; i < codes.size(); ++i) {
      if (i > 0 && codes[i] == codes[0]) continue;
      if (i > 0) name += '/';
      const auto c = static_cast<uint32_t>(codes[i]);  // as UTF-8
      if (c < 0x80) {
        name += static_cast<char>(c);
      } else if (c < 0x800) {
        name += static_cast<char>(0xc0 | (c >> 6));
        name += static_cast<char>(0x80 | (c & 0x3f));
      } else if (c < 0x10000) {
        name += static_cast<char>(0xe0 | (c >> 12));
        name += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
        name += static_cast<char>(0x80 | (c & 0x3f));
      } else {
        name += static_cast<char>(0xf0 | (c >> 18));
        name += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
        name += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
        name += static_cast<char>(0x80 | (c & 0x3f));
      }
    }
    names.push_back(name);
  }
  if (names.empty() || names.size() > 256)
    throw DataError(path.string() + ": expected 1..256 class names, got " +
                    std::to_string(names.size()));
  return names;
}

LoadedData load_data(const DataSpec& spec, bool train) {
  LoadedData out;
  out.location = locate_data(spec);
  const DataReader& reader = *out.location.reader;
  const fs::path& path = out.location.path;

  std::vector<std::string> names = spec.class_names;
  if (names.empty() && !spec.classes_file.empty()) {
    const fs::path base = fs::is_directory(path) ? path : path.parent_path();
    names = read_classes_file(base / spec.classes_file, spec.label_offset);
  }
  if (names.empty() && !reader.names_classes) names = known_class_names(spec.dataset);
  if (names.size() > 256)
    throw DataError("data.class_names: " + std::to_string(names.size()) +
                    " classes, at most 256 are supported");
  ReadOptions options;
  if (!names.empty()) options.num_classes = static_cast<int>(names.size());

  if (train) out.train = reader.read(path, spec, Split::train, options);
  if (reader.has_test(path, spec)) out.test = reader.read(path, spec, Split::test, options);

  // Class names found by the reader (folder names): the test split must have the same.
  if (names.empty()) {
    const Dataset* first = train ? &out.train : (out.test ? &*out.test : nullptr);
    if (first && !first->class_names.empty()) names = first->class_names;
  }
  if (train && out.test && !out.train.class_names.empty() && !out.test->class_names.empty() &&
      out.train.class_names != out.test->class_names) {
    throw DataError(out.test->source + ": holds classes different from " + out.train.source +
                    "'s (the class folders must be the same in both)");
  }
  if (names.empty()) {
    int top = train ? max_label(out.train) : -1;
    if (out.test) top = std::max(top, max_label(*out.test));
    names = numbered_names(top + 1);
  }
  auto settle = [&](Dataset& d) {
    if (max_label(d) >= static_cast<int>(names.size()))  // reader-found names, a short list
      throw DataError(d.source + ": label " + std::to_string(max_label(d)) + " but only " +
                      std::to_string(names.size()) + " class names");
    d.class_names = names;
  };
  if (train) settle(out.train);
  if (out.test) settle(*out.test);
  return out;
}

std::pair<Dataset, Dataset> split_validation(const Dataset& data, double fraction, uint64_t seed) {
  const auto count = static_cast<size_t>(data.count);
  const auto held = static_cast<size_t>(std::llround(static_cast<double>(data.count) * fraction));
  std::vector<uint32_t> order(count);
  std::iota(order.begin(), order.end(), 0u);
  Rng rng(seed);
  for (size_t i = count; i > 1; --i)  // Fisher-Yates
    std::swap(order[i - 1], order[static_cast<size_t>(rng.below(i))]);
  std::vector<bool> in_validation(count, false);
  for (size_t i = 0; i < held; ++i) in_validation[order[i]] = true;

  std::pair<Dataset, Dataset> out;
  const auto size = static_cast<size_t>(data.image_size());
  for (Dataset* d : {&out.first, &out.second}) {
    d->rows = data.rows;
    d->cols = data.cols;
    d->channels = data.channels;
    d->class_names = data.class_names;
  }
  out.first.source = data.source;
  out.second.source = data.source + " (validation_split)";
  for (size_t i = 0; i < count; ++i) {
    Dataset& d = in_validation[i] ? out.second : out.first;
    d.pixels.insert(d.pixels.end(), data.pixels.begin() + static_cast<std::ptrdiff_t>(i * size),
                    data.pixels.begin() + static_cast<std::ptrdiff_t>((i + 1) * size));
    d.labels.push_back(data.labels[i]);
    ++d.count;
  }
  return out;
}

}  // namespace mnistnet
