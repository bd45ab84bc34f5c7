// IDX reader: round trips on synthetic files, and one test per kind of bad file checking that
// the message names the file and the byte offset.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/errors.h"
#include "data/idx_reader.h"
#include "synthetic_idx.h"

using namespace mnistnet;
using namespace mnistnet::testing;
using Catch::Matchers::Contains;

namespace {

// The message of the DataError `fn` throws ("" if it throws none: the REQUIREs then fail).
template <typename Fn>
std::string data_error(Fn&& fn) {
  try {
    fn();
  } catch (const DataError& e) {
    return e.what();
  }
  FAIL("expected a DataError");
  return "";
}

// "<stem>.gz" or "<stem>". (Appending, not `"literal" + std::string`: GCC 12 -O3 gives a
// false -Wrestrict warning for that.)
std::string name(std::string stem, bool gzip) {
  if (gzip) stem += ".gz";
  return stem;
}

}  // namespace

TEST_CASE("IDX images and labels round trip, gzip and raw", "[idx]") {
  const bool gzip = GENERATE(false, true);
  TempDir dir;
  write_synthetic_split(dir.path, "train", 7, gzip, 5, 3, 4);
  const Dataset expected = synthetic_dataset(7, 5, 3, 4);
  const Dataset d = read_idx_pair(dir.path / name("train-images-idx3-ubyte", gzip),
                                  dir.path / name("train-labels-idx1-ubyte", gzip), 4);
  CHECK(d.count == 7);
  CHECK(d.rows == 5);
  CHECK(d.cols == 3);
  CHECK(d.pixels == expected.pixels);
  CHECK(d.labels == expected.labels);

  const IdxImages images = read_idx_images(dir.path / name("train-images-idx3-ubyte", gzip));
  CHECK(images.count == 7);
  CHECK(images.pixels == expected.pixels);
  CHECK(read_idx_labels(dir.path / name("train-labels-idx1-ubyte", gzip), 4) == expected.labels);
}

TEST_CASE("IDX: a data set larger than one read chunk round trips", "[idx]") {
  TempDir dir;
  write_synthetic_split(dir.path, "t10k", 300, true);  // 300*784 bytes: several 64 KiB chunks
  const Dataset d =
      read_idx_pair(dir.path / "t10k-images-idx3-ubyte.gz", dir.path / "t10k-labels-idx1-ubyte.gz");
  CHECK(d.pixels == synthetic_dataset(300).pixels);
}

TEST_CASE("IDX: missing file and directory name the path", "[idx]") {
  TempDir dir;
  const auto missing = dir.path / "nope-idx3-ubyte.gz";
  const std::string m = data_error([&] { read_idx_images(missing); });
  CHECK_THAT(m, Contains(missing.string()) && Contains("file not found"));
  const std::string d = data_error([&] { read_idx_labels(dir.path); });
  CHECK_THAT(d, Contains(dir.path.string()) && Contains("is a directory"));
  // A missing labels file is reported even when the images file is fine.
  write_synthetic_split(dir.path, "train", 3, true, 2, 2);
  CHECK_THAT(data_error([&] { read_idx_pair(dir.path / "train-images-idx3-ubyte.gz", missing); }),
             Contains(missing.string()));
}

TEST_CASE("IDX: empty file and truncated header", "[idx]") {
  const bool gzip = GENERATE(false, true);
  TempDir dir;
  const auto path = dir.path / name("x", gzip);
  write_bytes(path, {}, gzip);
  CHECK_THAT(data_error([&] { read_idx_images(path); }),
             Contains(path.string() + ": byte 0: file ends early inside the 16-byte header"));
  write_bytes(path, {0, 0, 8, 3, 0, 0, 0, 1, 0, 0}, gzip);
  CHECK_THAT(data_error([&] { read_idx_images(path); }),
             Contains(path.string() + ": byte 10: file ends early inside the 16-byte header"));
  write_bytes(path, {0, 0, 8, 1, 0, 0}, gzip);
  CHECK_THAT(data_error([&] { read_idx_labels(path); }),
             Contains(path.string() + ": byte 6: file ends early inside the 8-byte header"));
}

TEST_CASE("IDX: bad magic number, data type and dimension count", "[idx]") {
  TempDir dir;
  const auto path = dir.path / "x.gz";
  write_bytes(path, {0x12, 0x34, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0}, true);
  CHECK_THAT(
      data_error([&] { read_idx_images(path); }),
      Contains(path.string() + ": byte 0: bad magic number 0x12340803, expected 0x00000803"));
  write_bytes(path, {0, 0, 0x0d, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0}, true);
  CHECK_THAT(data_error([&] { read_idx_images(path); }),
             Contains(path.string() + ": byte 2: data type 0x0d, expected 0x08 (unsigned byte)"));
  // A labels file given where images are expected, and the other way round.
  write_idx_labels(path, {1, 2, 3}, true);
  CHECK_THAT(data_error([&] { read_idx_images(path); }),
             Contains(path.string() + ": byte 3: 1 dimensions, expected 3"));
  write_idx_images(path, 1, 1, 1, {0}, true);
  CHECK_THAT(data_error([&] { read_idx_labels(path); }),
             Contains(path.string() + ": byte 3: 3 dimensions, expected 1"));
}

TEST_CASE("IDX: dimensions must be non-zero and sane", "[idx]") {
  TempDir dir;
  const auto path = dir.path / "x";
  write_idx_images(path, 0, 28, 28, {}, false);
  CHECK_THAT(data_error([&] { read_idx_images(path); }),
             Contains(path.string() + ": byte 4: image count 0, expected 1..2147483648"));
  write_bytes(path, idx_images_bytes(0x80000001u, 28, 28, {}), false);
  CHECK_THAT(data_error([&] { read_idx_images(path); }),
             Contains(path.string() + ": byte 4: image count 2147483649, expected 1..2147483648"));
  write_idx_images(path, 2, 0, 28, {}, false);
  CHECK_THAT(data_error([&] { read_idx_images(path); }),
             Contains(path.string() + ": byte 8: rows 0, expected 1..4096"));
  write_idx_images(path, 2, 28, 4097, {}, false);
  CHECK_THAT(data_error([&] { read_idx_images(path); }),
             Contains(path.string() + ": byte 12: cols 4097, expected 1..4096"));
  write_bytes(path, {0, 0, 8, 1, 0, 0, 0, 0}, false);
  CHECK_THAT(data_error([&] { read_idx_labels(path); }),
             Contains(path.string() + ": byte 4: label count 0, expected 1..2147483648"));
}

TEST_CASE("IDX: truncated data names the offset it ended at and the bytes expected", "[idx]") {
  const bool gzip = GENERATE(false, true);
  TempDir dir;
  const auto images = dir.path / name("i", gzip);
  write_idx_images(images, 3, 2, 2, std::vector<uint8_t>(10, 7), gzip);  // 12 promised
  CHECK_THAT(data_error([&] { read_idx_images(images); }),
             Contains(images.string() +
                      ": byte 26: file ends early: header promises 3 images of 2x2 = 12 bytes "
                      "from byte 16 to 28"));
  const auto labels = dir.path / name("l", gzip);
  write_bytes(labels, {0, 0, 8, 1, 0, 0, 0, 5, 1, 2}, gzip);
  CHECK_THAT(
      data_error([&] { read_idx_labels(labels); }),
      Contains(labels.string() + ": byte 10: file ends early: header promises 5 labels = 5 bytes"));
  // A large promise fails on the missing data, not on allocating it.
  write_bytes(images, idx_images_bytes(0x80000000u, 4096, 4096, {1, 2, 3}), gzip);
  CHECK_THAT(data_error([&] { read_idx_images(images); }),
             Contains(images.string() + ": byte 19: file ends early"));
}

TEST_CASE("IDX: trailing data after the promised bytes is an error", "[idx]") {
  const bool gzip = GENERATE(false, true);
  TempDir dir;
  const auto images = dir.path / name("i", gzip);
  write_idx_images(images, 2, 2, 2, std::vector<uint8_t>(9, 1), gzip);
  CHECK_THAT(
      data_error([&] { read_idx_images(images); }),
      Contains(images.string() + ": byte 24: trailing data after the end of the 2 images of 2x2"));
  const auto labels = dir.path / name("l", gzip);
  auto bytes = idx_labels_bytes({1, 2});
  bytes.push_back(0);
  write_bytes(labels, bytes, gzip);
  CHECK_THAT(data_error([&] { read_idx_labels(labels); }),
             Contains(labels.string() + ": byte 10: trailing data"));
}

TEST_CASE("IDX: the first label out of range is named with its offset", "[idx]") {
  const bool gzip = GENERATE(false, true);
  TempDir dir;
  const auto labels = dir.path / name("train-labels-idx1-ubyte", gzip);
  write_idx_labels(labels, {0, 9, 3, 12, 10, 1}, gzip);
  CHECK_THAT(data_error([&] { read_idx_labels(labels); }),
             Contains(labels.string() + ": byte 11: label 12 out of range 0..9"));
  write_idx_labels(labels, {12, 0}, gzip);
  CHECK_THAT(data_error([&] { read_idx_labels(labels); }),
             Contains(": byte 8: label 12 out of range 0..9"));
  // num_classes sets the range; read_idx_pair checks labels too.
  write_idx_labels(labels, {0, 4, 5}, gzip);
  CHECK(read_idx_labels(labels, 6).size() == 3);
  CHECK_THAT(data_error([&] { read_idx_labels(labels, 5); }),
             Contains(": byte 10: label 5 out of range 0..4"));
  const auto images = dir.path / "i";
  write_idx_images(images, 3, 1, 1, {1, 2, 3}, false);
  CHECK_THAT(data_error([&] { read_idx_pair(images, labels, 5); }),
             Contains(labels.string() + ": byte 10: label 5 out of range 0..4"));
  CHECK_THROWS_AS(read_idx_labels(labels, 0), std::invalid_argument);
}

TEST_CASE("IDX: image and label counts must match, naming both files", "[idx]") {
  TempDir dir;
  const auto images = dir.path / "train-images-idx3-ubyte.gz";
  const auto labels = dir.path / "train-labels-idx1-ubyte.gz";
  write_idx_images(images, 3, 2, 2, std::vector<uint8_t>(12, 0), true);
  write_idx_labels(labels, {1, 2}, true);
  CHECK(data_error([&] { read_idx_pair(images, labels); }) ==
        images.string() + ": byte 4: 3 images, but " + labels.string() +
            ": byte 4: 2 labels; the counts must match");
}

TEST_CASE("IDX: corrupt and truncated gzip streams", "[idx]") {
  TempDir dir;
  const auto path = dir.path / "train-images-idx3-ubyte.gz";
  const Dataset d = synthetic_dataset(40, 28, 28);
  write_idx_images(path, d.count, d.rows, d.cols, d.pixels, true);
  const std::vector<uint8_t> good = read_bytes(path);
  REQUIRE(good.size() > 100);

  SECTION("flipped bits in the compressed data") {
    auto bad = good;
    for (size_t i = 20; i < 40; ++i) bad[i] ^= 0x5a;
    write_bytes(path, bad, false);
    CHECK_THAT(data_error([&] { read_idx_images(path); }),
               Contains(path.string() + ": byte ") && Contains("corrupt gzip stream ("));
  }
  SECTION("wrong checksum in the trailer") {
    auto bad = good;
    bad[bad.size() - 8] ^= 0xff;  // CRC-32, then ISIZE, close the file
    write_bytes(path, bad, false);
    CHECK_THAT(data_error([&] { read_idx_images(path); }),
               Contains(path.string() + ": byte ") &&
                   Contains(": corrupt gzip stream (incorrect data check) after this offset"));
  }
  SECTION("cut off mid-stream (interrupted download)") {
    auto bad = good;
    bad.resize(good.size() / 2);
    write_bytes(path, bad, false);
    CHECK_THAT(data_error([&] { read_idx_images(path); }),
               Contains(path.string() + ": byte ") &&
                   Contains(": gzip stream ends early (truncated .gz file): header promises 40 "
                            "images of 28x28"));
  }
}
