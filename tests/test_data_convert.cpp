// Not part of the suite ("[.convert]" is hidden): converts an IDX data set into the other
// formats with the same helpers the tests use, for the measurements in the README and issue 13:
//   MNISTNET_CONVERT_FROM=data/mnist MNISTNET_CONVERT_TO=/tmp/mnist-formats
//     build/mnistnet_tests "[.convert]"
// writes TO/csv/{train,test}.csv, TO/csv/kaggle_test.csv (no labels), TO/mnist.npz and
// TO/png/{train,test}/<class>/*.png.
// GCC 12 reports string concatenations of these tests as -Wrestrict overlaps after inlining
// (its bug 105651, a false positive); the library's build keeps the warning.
#pragma GCC diagnostic ignored "-Wrestrict"
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "data/data_locator.h"
#include "data/data_source.h"
#include "data_formats.h"

using namespace mnistnet;
using namespace mnistnet::testing;
namespace fs = std::filesystem;

TEST_CASE("convert an IDX data set to CSV, NPZ and PNG folders", "[.convert]") {
  const char* from = std::getenv("MNISTNET_CONVERT_FROM");
  const char* to = std::getenv("MNISTNET_CONVERT_TO");
  if (from == nullptr || to == nullptr) {
    WARN("set MNISTNET_CONVERT_FROM and MNISTNET_CONVERT_TO");
    return;
  }
  const Dataset train = load_split(from, "train"), test = load_split(from, "t10k");
  const fs::path out = to;
  fs::create_directories(out / "csv");
  write_text(out / "csv" / "train.csv", csv_text(train));
  write_text(out / "csv" / "test.csv", csv_text(test));
  write_text(out / "csv" / "kaggle_test.csv", csv_text(test, false));
  write_npz(out / "mnist.npz", train, test, true);
  write_png_folder(out / "png" / "train", train);
  write_png_folder(out / "png" / "test", test);
  SUCCEED();
}

// Load times for the measurements: MNISTNET_LOAD_PATHS="DIR_OR_FILE ..." build/mnistnet_tests
// "[.load_time]" prints, for each, the median of 3 load_data calls (both splits, class names).
TEST_CASE("load time of data sets", "[.load_time]") {
  const char* paths = std::getenv("MNISTNET_LOAD_PATHS");
  if (paths == nullptr) {
    WARN("set MNISTNET_LOAD_PATHS");
    return;
  }
  std::istringstream words(paths);
  for (std::string path; words >> path;) {
    DataSpec spec;
    spec.path = path;
    std::vector<double> seconds;
    int64_t examples = 0;
    for (int round = 0; round < 3; ++round) {
      const auto start = std::chrono::steady_clock::now();
      const LoadedData d = load_data(spec);
      seconds.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      examples = d.train.count + (d.test ? d.test->count : 0);
    }
    std::sort(seconds.begin(), seconds.end());
    std::printf("%s: %lld examples, median %.3f s (%.3f / %.3f / %.3f)\n", path.c_str(),
                static_cast<long long>(examples), seconds[1], seconds[0], seconds[1], seconds[2]);
  }
}
