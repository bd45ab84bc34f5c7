// Regression tests for what fuzzing (tests/fuzz, scripts/fuzz.sh) found, and for the in-memory
// entry points the fuzz targets use: each hostile input is one UserError line, never a crash or
// an "internal error".
#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config_loader.h"
#include "core/errors.h"
#include "data/idx_reader.h"
#include "image/image_decoder.h"
#include "image_test_files.h"
#include "model/model_file.h"
#include "synthetic_idx.h"

using namespace mnistnet;
using namespace mnistnet::testing;
using Catch::Matchers::Contains;

namespace {

template <typename Error, typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<uint8_t> bytes_of(const std::string& text) { return {text.begin(), text.end()}; }

// A model file as save_model lays it out: magic, version, header JSON, floats, CRC-32.
std::string model_file_bytes(const nlohmann::json& header, size_t floats) {
  std::string out = "MNISTNET";
  const std::string text = header.dump();
  const uint32_t version = 1, length = static_cast<uint32_t>(text.size());
  out.append(reinterpret_cast<const char*>(&version), 4);
  out.append(reinterpret_cast<const char*>(&length), 4);
  out += text;
  out.append(floats * sizeof(float), '\0');
  const auto crc = static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(out.data()), static_cast<uInt>(out.size())));
  out.append(reinterpret_cast<const char*>(&crc), 4);
  return out;
}

nlohmann::json tiny_header() {
  return {
      {"model", {{"input_shape", {4}}, {"layers", {{{"type", "Dense"}, {"units", 3}}}}}},
      {"data",
       {{"name", "tiny"},
        {"dataset", "mnist"},
        {"pixel_divisor", 256.0},
        {"validation_batch_size", 100}}},
      {"params",
       {{{"name", "dense/kernel"}, {"shape", {4, 3}}}, {{"name", "dense/bias"}, {"shape", {3}}}}}};
}

}  // namespace

TEST_CASE("Fuzz: a number too large for a double in a config is a ConfigError with its position",
          "[fuzz][config]") {
  const std::string message =
      error_of<ConfigError>([] { parse_config_text("{\n  \"seed\": 1e400\n}", "big.json"); });
  CHECK_THAT(
      message,
      Contains("big.json: line 2, column 11: invalid JSON: number overflow parsing '1e400'"));
}

TEST_CASE("Fuzz: a --set value or key that is not UTF-8 is a ConfigError, not a JSON type_error",
          "[fuzz][config]") {
  // Found by fuzz_config: the bare word became a JSON string that could not be printed in the
  // message (nor saved in the run's config.json): "internal error", exit 1.
  const std::string text = R"({"model": {"layers": [{"type": "Dense", "units": 10}]}})";
  CHECK_THAT(
      error_of<ConfigError>([&] { parse_config_text(text, "c.json", {"model.layers=\xfd\xfe"}); }),
      Contains("--set \"model.layers=\ufffd\ufffd\": not valid UTF-8 text"));
  CHECK_THAT(error_of<ConfigError>([&] { parse_config_text(text, "c.json", {"na\xffme=x"}); }),
             Contains("not valid UTF-8 text"));
  // A valid UTF-8 bare word is still a string, and a wrong type names it.
  CHECK_THAT(error_of<ConfigError>(
                 [&] { parse_config_text(text, "c.json", {"model.layers=\u00e9t\u00e9"}); }),
             Contains("c.json: /model/layers: expected a list, got the string \"\u00e9t\u00e9\""));
}

TEST_CASE("JSON nested 100000 deep is a ConfigError, not a stack overflow", "[fuzz][config]") {
  // Found by the bad-input table: printing {"model": [[[...]]]} in the error message recursed
  // once per level and crashed (SIGSEGV).
  const std::string deep =
      "{\"model\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  CHECK_THAT(error_of<ConfigError>([&] { parse_config_text(deep, "deep.json"); }),
             Contains("deep.json: line 1, column 74: JSON nested more than 64 levels deep"));
  const std::string text = R"({"model": {"layers": [{"type": "Dense", "units": 10}]}})";
  CHECK_THAT(error_of<ConfigError>(
                 [&] { parse_config_text(text, "c.json", {"name=" + std::string(100000, '[')}); }),
             Contains("--set name: the value is JSON nested more than 64 levels deep"));
  // Brackets inside strings do not count.
  CHECK(parse_config_text(R"({"name": ")" + std::string(1000, '[') +
                              R"(", "model": {"layers": [{"type": "Dense", "units": 10}]}})",
                          "ok.json")
            .name == std::string(1000, '['));
  const std::string nested = std::string(70, '[') + std::string(70, ']');
  const std::string bytes =
      model_file_bytes(nlohmann::json::parse(R"({"model": )" + nested + "}"), 0);
  CHECK_THAT(error_of<ModelFileError>([&] { load_model_from_bytes(bytes, "m.mnn"); }),
             Contains("m.mnn: byte ") && Contains(": the header nests more than 64 levels deep"));
}

TEST_CASE("Fuzz: config text in memory gives the same config as the file", "[fuzz][config]") {
  const std::string text = R"({"model": {"layers": [{"type": "Dense", "units": 10}]}, "seed": 3})";
  const Config c = parse_config_text(text, "mem.json", {"seed=9"});
  CHECK(c.seed == 9);
  CHECK(c.name == "mem");
  CHECK(c.model.layers.size() == 1);
}

TEST_CASE("Fuzz: IDX bytes in memory read exactly as the same file does", "[fuzz][idx]") {
  const Dataset d = synthetic_dataset(5, 4, 3);
  const std::vector<uint8_t> images = idx_images_bytes(5, 4, 3, d.pixels);
  const std::vector<uint8_t> labels = idx_labels_bytes(d.labels);
  TempDir dir;
  auto gz = [&](const std::vector<uint8_t>& raw) {
    write_bytes(dir.path / "x.gz", raw, true);
    return read_bytes(dir.path / "x.gz");
  };
  std::vector<uint8_t> truncated_gz = gz(images);
  truncated_gz.resize(truncated_gz.size() - 12);
  std::vector<uint8_t> corrupt_gz = gz(images);
  corrupt_gz[corrupt_gz.size() / 2] ^= 0x55;
  std::vector<uint8_t> two_members = gz({images.begin(), images.begin() + 20});
  const std::vector<uint8_t> rest = gz({images.begin() + 20, images.end()});
  two_members.insert(two_members.end(), rest.begin(), rest.end());
  std::vector<uint8_t> trailing = images;
  trailing.push_back(7);
  std::vector<uint8_t> wrong_magic = labels;
  wrong_magic[3] = 2;

  const std::vector<std::pair<const char*, std::vector<uint8_t>>> cases = {
      {"raw", images},
      {"gzip", gz(images)},
      {"two gzip members", two_members},
      {"truncated raw", {images.begin(), images.end() - 5}},
      {"truncated gzip", truncated_gz},
      {"corrupt gzip", corrupt_gz},
      {"trailing byte", trailing},
      {"labels", labels},
      {"wrong magic", wrong_magic},
      {"empty", {}}};
  for (const auto& [what, bytes] : cases) {
    INFO(what);
    write_bytes(dir.path / "f", bytes, false);
    const std::string path = (dir.path / "f").string();
    std::string from_file, from_memory;
    IdxImages a, b;
    try {
      a = read_idx_images(path);
    } catch (const DataError& e) {
      from_file = e.what();
    }
    try {
      b = parse_idx_images(bytes, path);
    } catch (const DataError& e) {
      from_memory = e.what();
    }
    if (std::string(what) == "corrupt gzip") {
      // zlib's gzread inflates ahead into its own buffer, so it meets the damage at an earlier
      // read than inflating into the caller's buffer does; the reason is the same.
      CHECK_THAT(from_memory, Contains(path + ": byte ") &&
                                  Contains(": corrupt gzip stream (incorrect data check)"));
      CHECK_THAT(from_file, Contains(": corrupt gzip stream (incorrect data check)"));
    } else {
      CHECK(from_memory == from_file);
    }
    CHECK(a.pixels == b.pixels);
    if (std::string(what) == "labels")
      CHECK(parse_idx_labels(bytes, "mem") == read_idx_labels(path));
  }
}

TEST_CASE("Fuzz: model bytes in memory load, a hostile params list is refused before building",
          "[fuzz][model]") {
  CHECK(
      load_model_from_bytes(model_file_bytes(tiny_header(), 15), "tiny.mnn").model.num_outputs() ==
      3);

  nlohmann::json not_a_list = tiny_header();
  not_a_list["params"] = 5;
  CHECK_THAT(error_of<ModelFileError>(
                 [&] { load_model_from_bytes(model_file_bytes(not_a_list, 15), "m.mnn"); }),
             Contains("m.mnn: the header's \"params\" is 5, expected a list"));
  nlohmann::json not_objects = tiny_header();
  not_objects["params"] = {1, 2};
  CHECK_THAT(error_of<ModelFileError>(
                 [&] { load_model_from_bytes(model_file_bytes(not_objects, 15), "m.mnn"); }),
             Contains("m.mnn: the header's parameter 0 (1) is not a name and shape"));
  // A few bytes claiming a 10^12-float kernel: refused without allocating it.
  nlohmann::json huge = tiny_header();
  huge["params"][0]["shape"] = {1000000, 1000000};
  CHECK_THAT(
      error_of<ModelFileError>([&] { load_model_from_bytes(model_file_bytes(huge, 15), "m.mnn"); }),
      Contains("m.mnn: the header's parameter 0") && Contains("fits the 60 bytes of parameters"));
  nlohmann::json string_shape = tiny_header();
  string_shape["params"][1]["shape"] = {"3"};
  CHECK_THAT(error_of<ModelFileError>(
                 [&] { load_model_from_bytes(model_file_bytes(string_shape, 15), "m.mnn"); }),
             Contains("m.mnn: the header's parameter 1"));
  CHECK_THAT(
      error_of<ModelFileError>(
          [&] { load_model_from_bytes(model_file_bytes(tiny_header(), 14), "m.mnn"); }),
      Contains("m.mnn: the header's parameter 1") && Contains("fits the 56 bytes of parameters"));
  nlohmann::json extra = tiny_header();
  extra["params"][1]["shape"] = {2};
  CHECK_THAT(error_of<ModelFileError>(
                 [&] { load_model_from_bytes(model_file_bytes(extra, 15), "m.mnn"); }),
             Contains("m.mnn: the header lists 56 bytes of parameters, the file holds 60"));
}

TEST_CASE("Fuzz: a JPEG Huffman table with more than 256 symbols is refused before stb_image",
          "[fuzz][image]") {
  // stb_image 2.27 writes past its 257-entry size list for such a table (found by fuzz_image).
  std::vector<uint8_t> jpeg{0xff, 0xd8, 0xff, 0xc4};
  const size_t symbols = 265;
  const size_t length = 2 + 17 + symbols;
  jpeg.push_back(static_cast<uint8_t>(length >> 8));
  jpeg.push_back(static_cast<uint8_t>(length & 0xff));
  jpeg.push_back(0x00);  // DC table 0
  for (int len = 1; len <= 16; ++len) jpeg.push_back(len == 15 ? 10 : len == 16 ? 255 : 0);
  jpeg.insert(jpeg.end(), symbols, 0);
  jpeg.insert(jpeg.end(), {0xff, 0xd9});
  CHECK_THAT(error_of<ImageError>([&] { decode_grey_image(jpeg, "h.jpg"); }),
             Contains("h.jpg: corrupt or truncated image: JPEG Huffman table at byte 6 has 265 "
                      "symbols (at most 256)"));
}

TEST_CASE("Fuzz: PGM headers with numbers that overflow, or 16-bit samples, are refused",
          "[fuzz][image]") {
  CHECK_THAT(error_of<ImageError>(
                 [&] { decode_grey_image(bytes_of("P5\n8888888888 8\n255\n"), "w.pgm"); }),
             Contains("w.pgm: corrupt or truncated image: PGM/PPM width at byte 3 is too large"));
  CHECK_THAT(
      error_of<ImageError>([&] { decode_grey_image(bytes_of("P5 2 2 65535\n12345678"), "d.pgm"); }),
      Contains("d.pgm: corrupt or truncated image: PGM/PPM maximum value 65535 at byte 7: only "
               "8-bit images (1..255) are read"));
  CHECK_THAT(error_of<ImageError>([&] { decode_grey_image(bytes_of("P5 # no size\n"), "e.pgm"); }),
             Contains("e.pgm: corrupt or truncated image: PGM/PPM width at byte 13 is missing"));
  // Comments are allowed where PGM allows them.
  CHECK(decode_grey_image(bytes_of("P5 # made by hand\n2 1\n255\n\x10\x20"), "ok.pgm").pixels ==
        std::vector<uint8_t>{0x10, 0x20});
}

TEST_CASE("Fuzz: a PNG chunk claiming more bytes than the file holds is refused before stb_image",
          "[fuzz][image]") {
  // stb_image 2.27 allocates what an IDAT chunk claims before reading it: 2 GiB for 80 bytes.
  std::vector<uint8_t> png = png_header_bytes(8, 8);
  png.insert(png.end(), {0x7f, 0xff, 0xff, 0xf0, 'I', 'D', 'A', 'T', 0x78, 0x9c, 0, 0, 0, 0});
  CHECK_THAT(error_of<ImageError>([&] { decode_grey_image(png, "big.png"); }),
             Contains("big.png: corrupt or truncated image: PNG chunk IDAT at byte 33 claims "
                      "2147483632 bytes, past the end of the file"));
}

TEST_CASE("Fuzz: formats predict does not promise (GIF, TGA, HDR ...) are refused unread",
          "[fuzz][image]") {
  CHECK_THAT(
      error_of<ImageError>([&] { decode_grey_image(bytes_of("GIF89a\x01\x00\x01\x00"), "a.gif"); }),
      Contains("a.gif: not a readable image (PNG, JPEG, BMP or PGM expected): this is GIF; "
               "convert it to PNG first"));
  CHECK_THAT(error_of<ImageError>([&] { decode_grey_image(bytes_of("#?RADIANCE\n"), "a.hdr"); }),
             Contains("unrecognised first bytes"));
}
