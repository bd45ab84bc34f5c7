// Not part of the suite ("[.convert]" is hidden): converts an IDX data set into the other
// formats with the same helpers the tests use, for the measurements in the README and issue 13:
//   MNISTNET_CONVERT_FROM=data/mnist MNISTNET_CONVERT_TO=/tmp/mnist-formats \
//     build/mnistnet_tests "[.convert]"
// writes TO/csv/{train,test}.csv, TO/csv/kaggle_test.csv (no labels), TO/mnist.npz and
// TO/png/{train,test}/<class>/*.png.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "data/data_locator.h"
#include "data_formats.h"

using namespace mnistnet;
using namespace mnistnet::testing;
namespace fs = std::filesystem;

TEST_CASE("convert an IDX data set to CSV, NPZ and PNG folders", "[.convert]") {
  const char* from = std::getenv("MNISTNET_CONVERT_FROM");
  const char* to = std::getenv("MNISTNET_CONVERT_TO");
  if (from == nullptr || to == nullptr) SKIP("set MNISTNET_CONVERT_FROM and MNISTNET_CONVERT_TO");
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
