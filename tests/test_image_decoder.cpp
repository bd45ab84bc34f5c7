// Image files -> grey planes: each format round-trips, colour becomes luminance, alpha lies on
// white paper, and every kind of bad file is one message naming it (never a crash).
#include <catch2/catch.hpp>
#include <cstdlib>

#include "image/image_decoder.h"
#include "image_test_files.h"
#include "synthetic_idx.h"

using namespace mnistnet;
using namespace mnistnet::testing;
using Catch::Contains;

namespace {

// A grey gradient with a dark blob: smooth enough for JPEG, varied enough to catch a transposition.
RawImage test_pattern(int width, int height) {
  RawImage img{width, height, 1, {}};
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const bool blob =
          (x - width / 3) * (x - width / 3) + (y - height / 2) * (y - height / 2) < 36;
      img.pixels.push_back(
          static_cast<uint8_t>(blob ? 10 : 60 + (150 * x) / width + (40 * y) / height));
    }
  return img;
}

double mean_abs_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  REQUIRE(a.size() == b.size());
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += std::abs(a[i] - b[i]);
  return sum / static_cast<double>(a.size());
}

std::string error_of(const std::filesystem::path& path, const ImageLimits& limits = {}) {
  try {
    read_grey_image(path, limits);
  } catch (const ImageError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("Lossless formats round-trip exactly: PNG grey/RGB/RGBA/grey+alpha, BMP, PGM",
          "[image]") {
  TempDir dir;
  const RawImage grey = test_pattern(37, 23);  // odd sizes: row padding in BMP
  for (const char* name : {"g.png", "g.pgm"}) {
    write_image(dir.path / name, grey);
    const GreyImage back = read_grey_image(dir.path / name);
    INFO(name);
    CHECK(back.width == 37);
    CHECK(back.height == 23);
    CHECK(back.pixels == grey.pixels);
  }
  for (int channels : {2, 3, 4}) {
    for (const char* ext : {".png", ".bmp"}) {
      if (channels == 2 && std::string(ext) == ".bmp") continue;  // BMP has no grey+alpha
      const auto path = dir.path / (std::string("c") + std::to_string(channels) + ext);
      write_image(path, with_channels(grey, channels));
      INFO(path);
      CHECK(read_grey_image(path).pixels == grey.pixels);  // R = G = B: luminance is the grey
    }
  }
}

TEST_CASE("JPEG decodes close to what was written", "[image]") {
  TempDir dir;
  const RawImage grey = test_pattern(64, 48);
  write_image(dir.path / "g.jpg", grey);
  write_image(dir.path / "c.jpg", with_channels(grey, 3));
  for (const char* name : {"g.jpg", "c.jpg"}) {
    const GreyImage back = read_grey_image(dir.path / name);
    INFO(name);
    REQUIRE(back.width == 64);
    REQUIRE(back.height == 48);
    CHECK(mean_abs_diff(back.pixels, grey.pixels) < 3.0);
  }
}

TEST_CASE("Colour is BT.601 luminance, alpha is composited over white", "[image]") {
  TempDir dir;
  // Pixels: red, green, blue, white, then black at alpha 0, 255, 128, then grey 100 at alpha 0.
  RawImage rgba{8, 1, 4, {255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255,
                          0,   0, 0, 0,   0, 0,   0, 255, 0, 0, 0,   128, 100, 100, 100, 0}};
  write_image(dir.path / "a.png", rgba);
  const GreyImage g = read_grey_image(dir.path / "a.png");
  CHECK(g.pixels == std::vector<uint8_t>{76, 150, 29, 255, 255, 0, 127, 255});
  RawImage grey_alpha{2, 1, 2, {0, 0, 0, 255}};  // transparent black, opaque black
  write_image(dir.path / "ga.png", grey_alpha);
  CHECK(read_grey_image(dir.path / "ga.png").pixels == std::vector<uint8_t>{255, 0});
}

TEST_CASE("Bad image files give one message naming the file", "[image]") {
  TempDir dir;
  const auto write = [&](const std::string& name, const std::vector<uint8_t>& bytes) {
    write_bytes(dir.path / name, bytes, false);
    return dir.path / name;
  };
  const auto garbage = write("garbage.png", std::vector<uint8_t>(1000, 0x5a));
  CHECK_THAT(error_of(garbage),
             Contains("garbage.png: not a readable image (PNG, JPEG, BMP or PGM expected)"));

  write_image(dir.path / "whole.png", test_pattern(64, 64));
  auto bytes = read_bytes(dir.path / "whole.png");
  bytes.resize(bytes.size() / 2);
  CHECK_THAT(error_of(write("truncated.png", bytes)),
             Contains("truncated.png: corrupt or truncated image"));

  // stb_image's reason quotes the chunk type's bytes: kept printable.
  CHECK_THAT(
      error_of(write("chunk.png", png_with_unknown_chunk())),
      Contains("chunk.png: corrupt or truncated image (stb_image: ?XYZ PNG chunk not known)"));

  CHECK_THAT(error_of(write("empty.png", {})), Contains("empty.png: the file is empty (0 bytes)"));
  CHECK_THAT(error_of(dir.path / "missing.png"), Contains("missing.png: no such file"));
  CHECK_THAT(error_of(dir.path), Contains(": is a directory, not an image"));

  // Headers claiming huge images are refused before any pixel is allocated.
  CHECK_THAT(
      error_of(write("huge.bmp", bmp_header_bytes(100000, 100000))),
      Contains(
          "huge.bmp: the image is 100000x100000 pixels; at most 16384 per side and 64 Mpixel"));
  CHECK_THAT(error_of(write("huge.png", png_header_bytes(100000, 100000))),
             Contains("huge.png: the image is 100000x100000 pixels"));
  CHECK_THAT(error_of(write("wide.png", png_header_bytes(20000, 10))),
             Contains("wide.png: the image is 20000x10 pixels"));
  CHECK_THAT(error_of(write("big.png", png_header_bytes(10000, 10000))),
             Contains("big.png: the image is 10000x10000 pixels"));

  ImageLimits small;
  small.max_file_bytes = 100;
  CHECK_THAT(error_of(dir.path / "whole.png", small),
             Contains("whole.png: the file is") && Contains("at most 100 bytes is accepted"));
}
