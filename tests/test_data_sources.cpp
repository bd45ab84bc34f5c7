// The data-source readers on small files written here: IDX with EMNIST's and QMNIST's
// conventions, Kaggle CSV, Keras NPZ, image folders; and one line naming the file and the row and
// column, byte offset or member for every kind of bad file.
// GCC 12 reports string concatenations of these tests as -Wrestrict overlaps after inlining
// (its bug 105651, a false positive); the library's build keeps the warning.
#pragma GCC diagnostic ignored "-Wrestrict"
#include <catch2/catch.hpp>
#include <string>

#include "core/errors.h"
#include "data/csv_source.h"
#include "data/data_source.h"
#include "data/idx_source.h"
#include "data_formats.h"
#include "synthetic_idx.h"

using namespace mnistnet;
using namespace mnistnet::testing;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
namespace fs = std::filesystem;

namespace {

std::string data_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no DataError)";
}

DataSpec spec_at(const fs::path& path, const std::string& format = "") {
  DataSpec s;
  s.dataset = "synthetic-data-source-test";
  s.path = path.string();
  s.format = format;
  return s;
}

void same_examples(const Dataset& a, const Dataset& b) {
  CHECK(a.count == b.count);
  CHECK(a.rows == b.rows);
  CHECK(a.cols == b.cols);
  CHECK(a.channels == b.channels);
  CHECK(a.pixels == b.pixels);
  CHECK(a.labels == b.labels);
}

}  // namespace

TEST_CASE("data source: IDX with any size and classes, prefixes, transpose, label offset",
          "[data_source]") {
  TempDir dir;
  // EMNIST letters: 1-based labels 1..26, transposed 5x3 images, its own file names.
  Dataset d = synthetic_dataset(52, 5, 3, 26);
  std::vector<uint8_t> stored = d.labels;
  for (auto& l : stored) ++l;
  Dataset transposed = d;
  transpose_images(transposed);
  REQUIRE(transposed.rows == 3);
  for (const std::string split : {"emnist-letters-train", "emnist-letters-test"}) {
    write_idx_images(dir.path / (split + "-images-idx3-ubyte.gz"), 52, 3, 5, transposed.pixels,
                     true);
    write_idx_labels(dir.path / (split + "-labels-idx1-ubyte.gz"), stored, true);
  }
  std::string mapping;
  for (int c = 1; c <= 26; ++c)
    mapping +=
        std::to_string(c) + " " + std::to_string(64 + c) + " " + std::to_string(96 + c) + "\n";
  write_text(dir.path / "emnist-letters-mapping.txt", mapping);

  DataSpec spec = spec_at(dir.path);
  spec.train = "emnist-letters-train";
  spec.test = "emnist-letters-test";
  spec.transpose = true;
  spec.label_offset = 1;
  spec.classes_file = "emnist-letters-mapping.txt";
  const LoadedData loaded = load_data(spec);
  CHECK(std::string(loaded.location.reader->format) == "idx");
  same_examples(loaded.train, d);
  REQUIRE(loaded.test);
  same_examples(*loaded.test, d);
  REQUIRE(loaded.train.class_names.size() == 26);
  CHECK(loaded.train.class_names[0] == "A/a");
  CHECK(loaded.train.class_names[25] == "Z/z");

  // Without the offset, label 26 is out of range of the mapping's 26 classes: file and byte.
  spec.label_offset = 0;
  spec.classes_file.clear();
  spec.class_names = known_class_names("mnist");
  CHECK_THAT(
      data_error([&] { load_data(spec); }),
      StartsWith((dir.path / "emnist-letters-train-labels-idx1-ubyte.gz").string() + ": byte ") &&
          Contains("label 10 out of range 0..9"));
  // No names at all: the classes are 0..max label.
  spec.class_names.clear();
  spec.label_offset = 1;
  CHECK(load_data(spec).train.num_classes() == 26);
}

TEST_CASE("data source: QMNIST's idx2-int labels and idx4 colour images", "[data_source]") {
  TempDir dir;
  const Dataset d = synthetic_dataset(6, 2, 2, 3);
  // [6, 2, 2, 1] as idx4, labels as 6 rows of 8 int32 (class first).
  std::vector<uint8_t> images{0, 0, 0x08, 4};
  for (uint32_t v : {6u, 2u, 2u, 1u}) append_big_endian(images, v);
  images.insert(images.end(), d.pixels.begin(), d.pixels.end());
  std::vector<uint8_t> labels{0, 0, 0x0c, 2};
  append_big_endian(labels, 6);
  append_big_endian(labels, 8);
  for (uint8_t l : d.labels)
    for (int k = 0; k < 8; ++k)
      append_big_endian(labels, k == 0 ? l : 1000u + static_cast<uint32_t>(k));
  for (const std::string split : {"train", "t10k"}) {
    write_bytes(dir.path / (split + "-images-idx3-ubyte"), images, false);
    write_bytes(dir.path / (split + "-labels-idx1-ubyte"), labels, false);
  }
  const LoadedData loaded = load_data(spec_at(dir.path));
  same_examples(loaded.train, d);
  CHECK(loaded.train.class_names == std::vector<std::string>{"0", "1", "2"});
}

TEST_CASE("data source: Kaggle CSV, by format or by what the path holds", "[data_source]") {
  TempDir dir;
  const Dataset train = synthetic_dataset(30, 4, 4, 10), test = synthetic_dataset(7, 4, 4, 10);
  write_text(dir.path / "train.csv", csv_text(train));
  write_text(dir.path / "test.csv", csv_text(test, false));  // Kaggle's: no labels
  LoadedData loaded = load_data(spec_at(dir.path));
  CHECK(std::string(loaded.location.reader->format) == "csv");
  same_examples(loaded.train, train);
  CHECK_FALSE(loaded.test);  // a prediction input, not a test set
  // The CSV file itself; a labelled test file named by data.test; CRLF line ends.
  std::string crlf;
  for (char c : csv_text(test)) {
    if (c == '\n') crlf.push_back('\r');
    crlf.push_back(c);
  }
  write_text(dir.path / "labelled.csv", crlf);
  DataSpec spec = spec_at(dir.path / "train.csv");
  spec.test = "labelled.csv";
  loaded = load_data(spec);
  REQUIRE(loaded.test);
  same_examples(*loaded.test, test);
  // The label column anywhere, named otherwise; a non-square image by image_shape.
  write_text(dir.path / "odd.csv", "a,b,c,digit,d,e,f\n1,2,3,4,5,6,7\n");
  spec = spec_at(dir.path / "odd.csv");
  spec.label_column = "digit";
  spec.image_shape = {2, 3, 1};
  const Dataset odd = load_data(spec).train;
  CHECK(odd.rows == 2);
  CHECK(odd.cols == 3);
  CHECK(odd.pixels == std::vector<uint8_t>{1, 2, 3, 5, 6, 7});
  CHECK(odd.labels == std::vector<uint8_t>{4});
  // A prediction input has no labels.
  const Dataset rows = read_csv_dataset(dir.path / "test.csv", spec_at(dir.path), {}, false);
  CHECK(rows.count == 7);
  CHECK(rows.labels.empty());
  CHECK(rows.pixels == test.pixels);
}

TEST_CASE("data source: bad CSV files name the file, row and column", "[data_source]") {
  TempDir dir;
  const fs::path f = dir.path / "train.csv";
  DataSpec spec = spec_at(f);
  spec.dataset = "mnist";  // ten classes
  auto error_of = [&](const std::string& text) {
    write_text(f, text);
    return data_error([&] { load_data(spec); });
  };
  const std::string at = f.string() + ": ";
  CHECK(error_of("1,2,3,4,5\n") == at + "row 0: expected a header row (label,pixel0,pixel1,...), "
                                        "got numbers: the first row must name the columns");
  CHECK(error_of("digit,p0,p1,p2,p3\n1,2,3,4,5\n") ==
        at + "row 0: no \"label\" column in the header (\"digit\", ...; data.label_column names "
             "it)");
  CHECK(error_of("label,p0,p1,p2\n1,2,3,4\n") ==
        at + "row 0: 3 pixel columns are not a square image; set data.image_shape");
  CHECK(error_of("label,p0,p1,p2,p3\n1,2,3,4,5\n1,2,3\n") ==
        at + "row 2, column 4 (p2): the row has 3 fields, the header 5");
  CHECK(error_of("label,p0,p1,p2,p3\n1,2,3,4,5,6\n") ==
        at + "row 1, column 6: more fields than the header's 5");
  CHECK(error_of("label,p0,p1,p2,p3\n1,2,x3,4,5\n") ==
        at + "row 1, column 3 (p1): expected a pixel value 0..255, got \"x3\"");
  CHECK(error_of("label,p0,p1,p2,p3\n1,2,3,4,5\n3,2,3,4,256\n") ==
        at + "row 2, column 5 (p3): pixel value 256 out of range 0..255");
  CHECK(error_of("label,p0,p1,p2,p3\n12,2,3,4,5\n") ==
        at + "row 1, column 1 (label): label 12 out of range 0..9");
  CHECK(error_of("label,p0,p1,p2,p3\n1,\"2,3,4,5\n") ==
        at + "row 1, column 2 (p0): error parsing data while strict checking enabled");
  CHECK(error_of("label,p0,p1,p2,p3\n") == at + "row 1: no data rows after the header");
  CHECK(error_of("") == at + "row 0: empty file, expected a header row (label,pixel0,pixel1,...)");
}

TEST_CASE("data source: CSV split over both cores gives the rows in order", "[data_source]") {
  TempDir dir;
  const Dataset train = synthetic_dataset(3000, 28, 28, 10);  // > 1 MiB: parsed in chunks
  write_text(dir.path / "train.csv", csv_text(train));
  same_examples(load_data(spec_at(dir.path)).train, train);
  // An error in the second chunk still names its row in the whole file.
  std::string text = csv_text(train);
  const size_t row_2500 = [&] {
    size_t at = 0;
    for (int n = 0; n < 2500; ++n) at = text.find('\n', at) + 1;
    return at;
  }();
  text.insert(text.find(',', row_2500) + 1, 1, 'x');
  write_text(dir.path / "train.csv", text);
  CHECK_THAT(data_error([&] { load_data(spec_at(dir.path)); }),
             Contains("train.csv: row 2500, column 2 (pixel0): expected a pixel value"));
}

TEST_CASE("data source: Keras NPZ, stored or deflated", "[data_source]") {
  TempDir dir;
  const Dataset train = synthetic_dataset(20, 3, 5, 10), test = synthetic_dataset(6, 3, 5, 10);
  for (const bool deflate : {false, true}) {
    write_npz(dir.path / "mnist.npz", train, test, deflate);
    const LoadedData loaded = load_data(spec_at(dir.path / "mnist.npz"));
    CHECK(std::string(loaded.location.reader->format) == "npz");
    same_examples(loaded.train, train);
    REQUIRE(loaded.test);
    same_examples(*loaded.test, test);
  }
  // Other key names, int64 labels, no test pair.
  std::string y;
  for (uint8_t l : train.labels) y += std::string(1, static_cast<char>(l)) + std::string(7, '\0');
  write_zip(dir.path / "other.npz",
            {{"images.npy", npy_images(train)}, {"digits.npy", npy_bytes("<i8", {20}, y)}}, true);
  DataSpec spec = spec_at(dir.path / "other.npz");
  spec.x_train = "images";
  spec.y_train = "digits";
  const LoadedData other = load_data(spec);
  same_examples(other.train, train);
  CHECK_FALSE(other.test);
}

TEST_CASE("data source: bad NPZ files name the file and the member", "[data_source]") {
  TempDir dir;
  const Dataset train = synthetic_dataset(4, 2, 2, 10);
  const fs::path f = dir.path / "d.npz";
  const std::string at = f.string() + ": ";
  auto error_of = [&](const std::vector<std::pair<std::string, std::string>>& members) {
    write_zip(f, members, true);
    DataSpec spec = spec_at(f);
    spec.dataset = "mnist";  // ten classes
    return data_error([&] { load_data(spec); });
  };
  CHECK(error_of({{"x_train.npy", npy_images(train)}}) ==
        at + "no member y_train.npy (data.y_train); the archive holds x_train.npy");
  std::string floats(16 * 4, '\0');
  CHECK(error_of({{"x_train.npy", npy_bytes("<f4", {4, 2, 2}, floats)},
                  {"y_train.npy", npy_labels(train)}}) ==
        at + "member x_train.npy: dtype <f4, expected uint8 (|u1) pixels");
  CHECK(error_of({{"x_train.npy", npy_bytes("|u1", {4, 2, 2}, "short")},
                  {"y_train.npy", npy_labels(train)}}) ==
        at + "member x_train.npy: byte 128: shape (4, 2, 2) of |u1 needs 16 bytes, the member "
             "holds 5");
  CHECK(error_of({{"x_train.npy", "not an array"}, {"y_train.npy", npy_labels(train)}}) ==
        at + "member x_train.npy: byte 0: not a .npy array (expected the magic \"\\x93NUMPY\")");
  Dataset bad = train;
  bad.labels[2] = 10;
  CHECK(error_of({{"x_train.npy", npy_images(train)}, {"y_train.npy", npy_labels(bad)}}) ==
        at + "member y_train.npy: label 10 at index 2 out of range 0..9");
  CHECK(error_of({{"x_train.npy", npy_images(train)},
                  {"y_train.npy", npy_labels(train)},
                  {"x_test.npy", npy_images(train)}}) ==
        at + "no member y_test.npy (data.y_test) to go with x_test.npy");
  // A truncated archive: its central directory is gone.
  write_npz(f, train, train, true);
  std::vector<uint8_t> bytes = read_bytes(f);
  bytes.resize(bytes.size() - 30);
  write_bytes(f, bytes, false);
  CHECK_THAT(data_error([&] { load_data(spec_at(f)); }),
             StartsWith(at + "not a readable .npz (zip) archive: "));
  CHECK_THAT(data_error([&] { load_data(spec_at(f)); }), !Contains("\n"));
}

TEST_CASE("data source: image folders, grey or RGB, resized, with a test folder", "[data_source]") {
  TempDir dir;
  Dataset train = synthetic_dataset(12, 4, 6, 3), test = synthetic_dataset(5, 4, 6, 3);
  train.class_names = test.class_names = {"cat", "dog", "emu"};
  write_png_folder(dir.path / "train", train);
  write_png_folder(dir.path / "test", test);
  LoadedData loaded = load_data(spec_at(dir.path));
  CHECK(std::string(loaded.location.reader->format) == "image_folder");
  same_examples(loaded.train, sorted_by_label(train));
  CHECK(loaded.train.class_names == train.class_names);
  REQUIRE(loaded.test);
  same_examples(*loaded.test, sorted_by_label(test));
  // RGB: grey repeated in three channels; image_size resizes (equal sizes are exact).
  DataSpec spec = spec_at(dir.path);
  spec.color_mode = "rgb";
  const Dataset rgb = load_data(spec).train;
  CHECK(rgb.channels == 3);
  CHECK(rgb.pixels[3] == sorted_by_label(train).pixels[1]);
  spec.image_size = {2, 3};
  const Dataset small = load_data(spec).train;
  CHECK(small.rows == 2);
  CHECK(small.cols == 3);
  CHECK(small.pixels.size() == 12u * 2 * 3 * 3);
  // The root itself, without train/test folders.
  loaded = load_data(spec_at(dir.path / "train"));
  CHECK(loaded.train.count == 12);
  CHECK_FALSE(loaded.test);
}

TEST_CASE("data source: bad image folders name the folder or the file", "[data_source]") {
  TempDir dir;
  Dataset train = synthetic_dataset(4, 3, 3, 2);
  write_png_folder(dir.path / "train", train);
  fs::create_directories(dir.path / "train" / "2");
  CHECK(data_error([&] { load_data(spec_at(dir.path)); }) ==
        (dir.path / "train" / "2").string() +
            ": empty class folder (no .png, .jpg, .jpeg, .bmp, .pgm or .ppm files)");
  write_text(dir.path / "train" / "2" / "broken.png", "not a png at all");
  CHECK_THAT(
      data_error([&] { load_data(spec_at(dir.path)); }),
      StartsWith((dir.path / "train" / "2" / "broken.png").string() + ": not a readable image"));
  fs::remove(dir.path / "train" / "2" / "broken.png");
  const Dataset wide = synthetic_dataset(1, 3, 5, 1);
  write_png(dir.path / "train" / "2" / "wide.png", wide.pixels.data(), 5, 3, 1);
  CHECK_THAT(data_error([&] { load_data(spec_at(dir.path)); }),
             Contains("wide.png: the image is 5x3") && Contains("set data.image_size"));
  DataSpec spec = spec_at(dir.path);
  spec.format = "image_folder";
  spec.train = "nowhere";
  CHECK_THAT(data_error([&] { load_data(spec); }),
             Contains("not a synthetic-data-source-test data directory: missing"));
}

TEST_CASE("data source: validation_split holds out a seeded part in order", "[data_source]") {
  const Dataset d = synthetic_dataset(100, 2, 2, 10);
  const auto [train, validation] = split_validation(d, 0.2, 7);
  CHECK(train.count == 80);
  CHECK(validation.count == 20);
  const auto [train2, validation2] = split_validation(d, 0.2, 7);
  CHECK(validation2.pixels == validation.pixels);
  const auto [train3, validation3] = split_validation(d, 0.2, 8);
  CHECK(validation3.pixels != validation.pixels);
}

TEST_CASE("data source: classes files", "[data_source]") {
  TempDir dir;
  write_text(dir.path / "names.txt", "cat\ndog\n");
  CHECK(read_classes_file(dir.path / "names.txt", 0) == std::vector<std::string>{"cat", "dog"});
  write_text(dir.path / "map.txt", "0 48\n1 49\n3 51\n");
  CHECK(data_error([&] { read_classes_file(dir.path / "map.txt", 0); }) ==
        (dir.path / "map.txt").string() +
            ": line 3: expected \"<label> <code point> [<code point>]\" with label 2 (labels in "
            "order from data.label_offset), got \"3 51\"");
  write_text(dir.path / "kana.txt", "0 12362\n");
  CHECK(read_classes_file(dir.path / "kana.txt", 0) == std::vector<std::string>{"お"});
}
