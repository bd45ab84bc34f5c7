#pragma once
// Where a data set's IDX files live, and loading one split of them.
//
// A directory qualifies when it holds all four MNIST-layout files, each raw or gzipped:
//   train-images-idx3-ubyte[.gz]  train-labels-idx1-ubyte[.gz]
//   t10k-images-idx3-ubyte[.gz]   t10k-labels-idx1-ubyte[.gz]
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace mnistnet {

// The directory of `dataset` (e.g. "mnist", "fashion_mnist"), trying in order:
//   1. explicit_dir if non-empty (a DataError if it lacks any file; nothing else is tried),
//   2. $MNISTNET_DATA/<dataset>/,
//   3. data/<dataset>/ relative to the current directory,
//   4. <repo>/data/<dataset>/ where the executable is <repo>/build/<exe>.
// Not found: a DataError listing each place looked and why it did not qualify, ending with
// "run scripts/fetch_data.sh <dataset>". Paths are returned as found (possibly relative).
std::filesystem::path find_dataset_dir(const std::string& dataset, const std::string& explicit_dir);

// The same search for any format: a place qualifies when why_not(place) is "" (else it says
// why not, e.g. "missing train.csv"). explicit_path may be a file (an NPZ, a CSV).
std::filesystem::path find_data_path(
    const std::string& dataset, const std::string& explicit_path,
    const std::function<std::string(const std::filesystem::path&)>& why_not);

// The files in dir a qualifying directory would hold but this one lacks, written
// "<stem>[.gz]"; empty when dir qualifies.
std::vector<std::string> missing_dataset_files(const std::filesystem::path& dir);
// The same for other IDX prefixes than MNIST's "train" and "t10k" (EMNIST: "emnist-letters-train").
std::vector<std::string> missing_idx_files(const std::filesystem::path& dir,
                                           const std::string& train, const std::string& test);

// The file for `stem` (e.g. "train-images-idx3-ubyte") in dir: the raw file if present (it
// reads faster, and is usually what gunzip made of the .gz beside it), else the .gz.
// A DataError naming "<dir>/<stem>[.gz]" if neither exists.
std::filesystem::path idx_file_path(const std::filesystem::path& dir, const std::string& stem);

// One split ("train" or "t10k"; anything else is std::invalid_argument) read from dir.
Dataset load_split(const std::filesystem::path& dir, const std::string& split,
                   int num_classes = 10);

}  // namespace mnistnet
