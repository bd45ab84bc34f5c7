#pragma once
// One interface for every data format: a reader turns files into a Dataset (images
// [N, H, W, C] uint8 as stored, labels, class names). Readers sit in a table (data_source.cpp),
// as layers sit in the layer registry: a new format is its own file pair and one row.
//
// `data.format` picks the reader; without it, the first reader that recognises what the path
// holds (a .csv or .npz file, a directory of IDX files, CSV files or class folders) is used.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/spec.h"
#include "data/dataset.h"

namespace mnistnet {

enum class Split { train, test };

// What a reader is told besides the spec: how many classes the labels may have (known from
// data.class_names, data.classes_file or the data set's name; 256 when the data decides).
struct ReadOptions {
  int num_classes = 256;
};

struct DataReader {
  const char* format;  // the data.format value
  // Could `path` (a file or a directory) hold data of this format?
  bool (*recognises)(const std::filesystem::path& path, const DataSpec& spec);
  // Why `path` does not hold a training split of this format ("" when it does), for the
  // locator's "looked in ..." message.
  std::string (*why_not)(const std::filesystem::path& path, const DataSpec& spec);
  // Does `path` hold the test split? (IDX always: its four files are required together.)
  bool (*has_test)(const std::filesystem::path& path, const DataSpec& spec);
  // The reader names the classes itself (folder names): a data set's known names do not apply.
  bool names_classes;
  // Reads one split. Throws DataError "<file>: <where>: <what>" for a bad file.
  Dataset (*read)(const std::filesystem::path& path, const DataSpec& spec, Split split,
                  const ReadOptions& options);
};

// Every reader, in the order auto-detection tries them.
const std::vector<DataReader>& data_readers();

// The reader of `format` (std::invalid_argument for an unknown one: the config checked it).
const DataReader& data_reader(const std::string& format);

struct DataLocation {
  const DataReader* reader = nullptr;
  std::filesystem::path path;  // the data directory, or the NPZ / CSV file
};

// Where the spec's data is: data.path if given, else data/<dataset>/ by the locator's search
// order (data_locator.h), and which reader reads it. A DataError when nothing qualifies.
DataLocation locate_data(const DataSpec& spec);

struct LoadedData {
  DataLocation location;
  Dataset train;                      // empty (count 0) when only the test split was asked for
  std::optional<Dataset> test;        // absent when the data has no test split
  std::string train_name, test_name;  // the files or directories read, for messages
};

// Reads the splits (the training split only when `train` is true), then settles the class
// names, the same in both splits: data.class_names, else data.classes_file, else what the
// reader found (folder names), else the data set's known names (MNIST's digits, Fashion-MNIST's
// clothes, KMNIST's hiragana), else "0".."K-1" for the largest label K-1.
LoadedData load_data(const DataSpec& spec, bool train = true);

// Splits `data` into (train, validation) with a seeded shuffle: round(count * fraction)
// examples, in their original order, become the validation set. Class names are kept.
std::pair<Dataset, Dataset> split_validation(const Dataset& data, double fraction, uint64_t seed);

// The known class names of a data set name, or empty ("mnist" -> "0".."9").
std::vector<std::string> known_class_names(const std::string& dataset);

// Reads a classes file: EMNIST's mapping ("<label> <code point> [<code point>]" per line,
// label_offset subtracted) or one name per line. A DataError naming the line when bad.
std::vector<std::string> read_classes_file(const std::filesystem::path& path, int label_offset);

}  // namespace mnistnet
