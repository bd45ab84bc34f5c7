// Data locator: search order explicit > $MNISTNET_DATA > ./data > beside the executable, what
// qualifies as a data set directory, and load_split's choice between raw and .gz.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <optional>
#include <string>

#include "core/errors.h"
#include "data/data_locator.h"
#include "synthetic_idx.h"

using namespace mnistnet;
using namespace mnistnet::testing;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// A name no real data directory uses, so the fallback beside the executable never matches.
const std::string kName = "synthetic-locator-test";

// Sets (or unsets, for nullopt) $MNISTNET_DATA for one test, restoring the old value after.
class EnvGuard {
 public:
  explicit EnvGuard(const std::optional<std::string>& value) {
    if (const char* old = std::getenv("MNISTNET_DATA")) old_ = old;
    if (value) {
      ::setenv("MNISTNET_DATA", value->c_str(), 1);
    } else {
      ::unsetenv("MNISTNET_DATA");
    }
  }
  ~EnvGuard() {
    if (old_) {
      ::setenv("MNISTNET_DATA", old_->c_str(), 1);
    } else {
      ::unsetenv("MNISTNET_DATA");
    }
  }

 private:
  std::optional<std::string> old_;
};

// Runs the test with the current directory set to dir, restoring it after.
class CwdGuard {
 public:
  explicit CwdGuard(const fs::path& dir) : old_(fs::current_path()) { fs::current_path(dir); }
  ~CwdGuard() { fs::current_path(old_); }

 private:
  fs::path old_;
};

std::string data_error(const std::string& dataset, const std::string& explicit_dir) {
  try {
    find_dataset_dir(dataset, explicit_dir);
  } catch (const DataError& e) {
    return e.what();
  }
  FAIL("expected a DataError");
  return "";
}

}  // namespace

TEST_CASE("locator: explicit dir beats $MNISTNET_DATA beats ./data", "[locator]") {
  TempDir root;
  write_synthetic_dataset(root.path / "explicit", 6, 4, true, 2, 2);
  write_synthetic_dataset(root.path / "env" / kName, 6, 4, false, 2, 2);
  write_synthetic_dataset(root.path / "cwd" / "data" / kName, 6, 4, true, 2, 2);
  CwdGuard cwd(root.path / "cwd");

  {
    EnvGuard env((root.path / "env").string());
    CHECK(find_dataset_dir(kName, (root.path / "explicit").string()) == root.path / "explicit");
    CHECK(find_dataset_dir(kName, "") == root.path / "env" / kName);
  }
  {
    EnvGuard env(std::nullopt);
    CHECK(find_dataset_dir(kName, "") == fs::path("data") / kName);
  }
  {
    EnvGuard env("");  // set but empty counts as unset
    CHECK(find_dataset_dir(kName, "") == fs::path("data") / kName);
  }
  {
    // $MNISTNET_DATA without this data set (or with only part of it) falls through to ./data.
    fs::create_directories(root.path / "partial" / kName);
    write_synthetic_split(root.path / "partial" / kName, "train", 3, true, 2, 2);
    EnvGuard env((root.path / "partial").string());
    CHECK(find_dataset_dir(kName, "") == fs::path("data") / kName);
  }
}

TEST_CASE("locator: an explicit dir lacking files is an error, not a fall-through", "[locator]") {
  TempDir root;
  write_synthetic_dataset(root.path / "cwd" / "data" / kName, 6, 4, true, 2, 2);
  CwdGuard cwd(root.path / "cwd");
  EnvGuard env(std::nullopt);
  write_synthetic_split(root.path, "train", 3, false, 2, 2);
  CHECK_THAT(data_error(kName, root.path.string()),
             Contains(root.path.string() + ": not a " + kName +
                      " data directory: missing "
                      "t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]"));
  CHECK_THAT(data_error(kName, (root.path / "nope").string()),
             Contains((root.path / "nope").string() + ": not a " + kName +
                      " data directory: does not exist"));
}

TEST_CASE("locator: not found lists every place looked and how to fetch", "[locator]") {
  TempDir root;
  fs::create_directories(root.path / "cwd" / "data" / kName);
  write_synthetic_split(root.path / "cwd" / "data" / kName, "t10k", 3, true, 2, 2);
  CwdGuard cwd(root.path / "cwd");
  std::string message;
  {
    EnvGuard env((root.path / "env").string());
    message = data_error(kName, "");
    CHECK_THAT(message, Contains("data set '" + kName + "' not found; looked in "));
    CHECK_THAT(message, Contains((root.path / "env" / kName).string() + " ($MNISTNET_DATA/" +
                                 kName + ": does not exist)"));
    CHECK_THAT(message, Contains("data/" + kName +
                                 " (current directory: missing train-images-idx3-ubyte[.gz], "
                                 "train-labels-idx1-ubyte[.gz])"));
    const fs::path repo = fs::read_symlink("/proc/self/exe").parent_path().parent_path();
    CHECK_THAT(message, Contains((repo / "data" / kName).string() +
                                 " (next to the executable: does not exist)"));
    CHECK_THAT(message, Contains("; run scripts/fetch_data.sh " + kName));
    CHECK(message.find('\n') == std::string::npos);
  }
  {
    EnvGuard env(std::nullopt);
    CHECK_THAT(data_error(kName, ""),
               Contains("looked in $MNISTNET_DATA (not set), data/" + kName));
  }
}

TEST_CASE("locator: raw and gzipped files both qualify, load_split prefers raw", "[locator]") {
  TempDir root;
  const fs::path dir = root.path / kName;
  fs::create_directories(dir);
  write_synthetic_split(dir, "train", 9, true, 3, 2);
  write_synthetic_split(dir, "t10k", 4, false, 3, 2);
  CHECK(missing_dataset_files(dir).empty());
  CHECK(find_dataset_dir(kName, dir.string()) == dir);

  CHECK(idx_file_path(dir, "train-images-idx3-ubyte") == dir / "train-images-idx3-ubyte.gz");
  CHECK(idx_file_path(dir, "t10k-labels-idx1-ubyte") == dir / "t10k-labels-idx1-ubyte");
  const Dataset train = load_split(dir, "train");
  CHECK(train.count == 9);
  CHECK(train.rows == 3);
  CHECK(train.cols == 2);
  CHECK(train.pixels == synthetic_dataset(9, 3, 2).pixels);
  CHECK(train.labels == synthetic_dataset(9, 3, 2).labels);
  CHECK(load_split(dir, "t10k").count == 4);

  // Both present: the raw file is read (here deliberately different from the .gz).
  write_idx_labels(dir / "train-labels-idx1-ubyte", std::vector<uint8_t>(9, 7), false);
  CHECK(idx_file_path(dir, "train-labels-idx1-ubyte") == dir / "train-labels-idx1-ubyte");
  CHECK(load_split(dir, "train").labels == std::vector<uint8_t>(9, 7));

  CHECK_THROWS_AS(load_split(dir, "test"), std::invalid_argument);
  fs::remove(dir / "t10k-images-idx3-ubyte");
  CHECK_THROWS_WITH(load_split(dir, "t10k"),
                    Contains((dir / "t10k-images-idx3-ubyte[.gz]").string() + ": file not found"));
  // Errors in the files themselves name the file read.
  write_idx_labels(dir / "train-labels-idx1-ubyte", std::vector<uint8_t>(9, 11), false);
  CHECK_THROWS_WITH(load_split(dir, "train"), Contains((dir / "train-labels-idx1-ubyte").string() +
                                                       ": byte 8: label 11 out of range 0..9"));
}
