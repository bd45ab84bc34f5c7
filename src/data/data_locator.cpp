// Search order and messages for finding a data set directory (see data_locator.h).
#include "data/data_locator.h"

#include <array>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

#include "core/errors.h"
#include "data/idx_reader.h"

namespace mnistnet {
namespace fs = std::filesystem;

namespace {

bool is_file(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);  // follows symlinks; any error counts as absent
}

bool is_dir(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

// Why dir does not qualify, or "" if it does.
std::string why_not_idx(const fs::path& dir) {
  if (!is_dir(dir)) return "does not exist";
  const auto missing = missing_dataset_files(dir);
  return missing.empty() ? "" : "missing " + join(missing, ", ");
}

// <repo>/data/<dataset> for an executable at <repo>/build/<exe>; empty if /proc is unavailable.
fs::path beside_executable(const std::string& dataset) {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec || exe.empty()) return {};
  return exe.parent_path().parent_path() / "data" / dataset;
}

bool same_dir(const fs::path& a, const fs::path& b) {
  std::error_code ec1, ec2;
  const fs::path ca = fs::weakly_canonical(a, ec1);
  const fs::path cb = fs::weakly_canonical(b, ec2);
  return !ec1 && !ec2 && ca == cb;
}

}  // namespace

std::vector<std::string> missing_dataset_files(const fs::path& dir) {
  return missing_idx_files(dir, "train", "t10k");
}

std::vector<std::string> missing_idx_files(const fs::path& dir, const std::string& train,
                                           const std::string& test) {
  std::vector<std::string> missing;
  for (const std::string& name : {train + "-images-idx3-ubyte", train + "-labels-idx1-ubyte",
                                  test + "-images-idx3-ubyte", test + "-labels-idx1-ubyte"}) {
    if (!is_file(dir / name) && !is_file(dir / (name + ".gz"))) missing.push_back(name + "[.gz]");
  }
  return missing;
}

fs::path find_dataset_dir(const std::string& dataset, const std::string& explicit_dir) {
  return find_data_path(dataset, explicit_dir, why_not_idx);
}

fs::path find_data_path(const std::string& dataset, const std::string& explicit_dir,
                        const std::function<std::string(const fs::path&)>& why_not) {
  if (dataset.empty()) throw std::invalid_argument("find_dataset_dir: empty dataset name");

  if (!explicit_dir.empty()) {
    const fs::path dir = explicit_dir;
    const std::string why = why_not(dir);
    if (!why.empty())
      throw DataError(dir.string() + ": not a " + dataset + " data directory: " + why);
    return dir;
  }

  struct Place {
    fs::path dir;
    std::string label;  // how the place was derived, for the message
  };
  std::vector<Place> places;
  std::vector<std::string> looked;
  if (const char* env = std::getenv("MNISTNET_DATA"); env != nullptr && *env != '\0') {
    places.push_back({fs::path(env) / dataset, "$MNISTNET_DATA/" + dataset});
  } else {
    looked.push_back("$MNISTNET_DATA (not set)");
  }
  places.push_back({fs::path("data") / dataset, "current directory"});
  if (fs::path beside = beside_executable(dataset); !beside.empty()) {
    places.push_back({beside, "next to the executable"});
  }

  for (size_t i = 0; i < places.size(); ++i) {
    const Place& place = places[i];
    bool seen = false;  // e.g. running from the repo root: cwd and executable agree
    for (size_t j = 0; j < i && !seen; ++j) seen = same_dir(places[j].dir, place.dir);
    if (seen) continue;
    const std::string why = why_not(place.dir);
    if (why.empty()) return place.dir;
    looked.push_back(place.dir.string() + " (" + place.label + ": " + why + ")");
  }
  throw DataError("data set '" + dataset + "' not found; looked in " + join(looked, ", ") +
                  "; run scripts/fetch_data.sh " + dataset);
}

fs::path idx_file_path(const fs::path& dir, const std::string& stem) {
  const fs::path raw = dir / stem;
  if (is_file(raw)) return raw;
  fs::path gz = dir / (stem + ".gz");
  if (is_file(gz)) return gz;
  throw DataError((dir / (stem + "[.gz]")).string() + ": file not found");
}

Dataset load_split(const fs::path& dir, const std::string& split, int num_classes) {
  if (split != "train" && split != "t10k") {
    throw std::invalid_argument("load_split: split '" + split + "', expected 'train' or 't10k'");
  }
  return read_idx_pair(idx_file_path(dir, split + "-images-idx3-ubyte"),
                       idx_file_path(dir, split + "-labels-idx1-ubyte"), num_classes);
}

}  // namespace mnistnet
