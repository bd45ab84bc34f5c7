#pragma once
// Test helpers for images: synthetic digit-like drawings, files in each format written with
// stb_image_write (or by hand: PGM, and headers that lie about their size).
//
//   auto ring = draw_glyph(280, 190, {90, 20, 105, 150}, Glyph::kRing, 20, 235);  // dark on light
//   write_image(dir / "ring.png", ring);
#include <stb_image_write.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "image/image_decoder.h"
#include "image/resample.h"

namespace mnistnet::testing {

// Interleaved 8-bit pixels: [height, width, channels].
struct RawImage {
  int width = 0, height = 0, channels = 1;
  std::vector<uint8_t> pixels;
};

enum class Glyph {
  kRing,  // a "0": an elliptical ring filling the box, the hole 60% of its size
  kBar,   // a "1": the box filled
};

// A [height, width] grey canvas of `paper` with the glyph drawn in `ink` inside `box`,
// anti-aliased by 4x4 supersampling, so the same glyph at another size looks the same scaled.
inline RawImage draw_glyph(int width, int height, PixelBox box, Glyph glyph, uint8_t ink,
                           uint8_t paper) {
  RawImage img{width, height, 1, std::vector<uint8_t>(static_cast<size_t>(width * height), paper)};
  auto inside = [&](double u, double v) {  // u, v in [0, 1] across the box
    if (u < 0 || u > 1 || v < 0 || v > 1) return false;
    if (glyph == Glyph::kBar) return true;
    const double r2 = (2 * u - 1) * (2 * u - 1) + (2 * v - 1) * (2 * v - 1);
    return r2 <= 1.0 && r2 >= 0.36;
  };
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      int hits = 0;
      for (int sy = 0; sy < 4; ++sy)
        for (int sx = 0; sx < 4; ++sx)
          hits += inside((x + (sx + 0.5) / 4 - box.x0) / box.width,
                         (y + (sy + 0.5) / 4 - box.y0) / box.height);
      const double cover = hits / 16.0;
      img.pixels[static_cast<size_t>(y * width + x)] =
          static_cast<uint8_t>(std::lround(paper + cover * (ink - paper)));
    }
  return img;
}

inline GreyImage as_grey(const RawImage& raw) {
  if (raw.channels != 1) throw std::logic_error("as_grey: not a grey image");
  return {raw.width, raw.height, raw.pixels};
}

// Grey -> the same picture with `channels` channels: grey copied into R, G, B; alpha opaque.
inline RawImage with_channels(const RawImage& grey, int channels) {
  RawImage out{grey.width, grey.height, channels, {}};
  for (uint8_t v : grey.pixels)
    for (int c = 0; c < channels; ++c)
      out.pixels.push_back((c == 3 || (channels == 2 && c == 1)) ? 255 : v);
  return out;
}

// By extension: .png, .bmp, .jpg (quality 95), .pgm (binary P5, grey only).
inline void write_image(const std::filesystem::path& path, const RawImage& img) {
  const std::string ext = path.extension().string(), name = path.string();
  int ok = 0;
  if (ext == ".png") {
    ok = stbi_write_png(name.c_str(), img.width, img.height, img.channels, img.pixels.data(),
                        img.width * img.channels);
  } else if (ext == ".bmp") {
    ok = stbi_write_bmp(name.c_str(), img.width, img.height, img.channels, img.pixels.data());
  } else if (ext == ".jpg") {
    ok = stbi_write_jpg(name.c_str(), img.width, img.height, img.channels, img.pixels.data(), 95);
  } else if (ext == ".pgm" && img.channels == 1) {
    std::ofstream out(path, std::ios::binary);
    out << "P5\n" << img.width << " " << img.height << "\n255\n";
    out.write(reinterpret_cast<const char*>(img.pixels.data()),
              static_cast<std::streamsize>(img.pixels.size()));
    ok = out.good() ? 1 : 0;
  }
  if (ok == 0) throw std::runtime_error("cannot write test image " + name);
}

inline void put_u32_be(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}
inline void put_u32_le(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 0; s < 32; s += 8) out.push_back(static_cast<uint8_t>(v >> s));
}

// A PNG signature and an IHDR chunk (valid CRC) for an 8-bit grey image of the stated size,
// and nothing else: what a header claiming a huge image looks like.
inline std::vector<uint8_t> png_header_bytes(uint32_t width, uint32_t height) {
  std::vector<uint8_t> out{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  put_u32_be(out, 13);
  const size_t chunk = out.size();
  out.insert(out.end(), {'I', 'H', 'D', 'R'});
  put_u32_be(out, width);
  put_u32_be(out, height);
  out.insert(out.end(), {8, 0, 0, 0, 0});  // depth 8, grey, deflate, no filter, no interlace
  put_u32_be(out, static_cast<uint32_t>(
                      crc32(0, out.data() + chunk, static_cast<uInt>(out.size() - chunk))));
  return out;
}

// A valid 10x10 PNG header followed by a critical chunk of unknown type whose first byte is not
// ASCII, which stb_image quotes in its failure reason.
inline std::vector<uint8_t> png_with_unknown_chunk() {
  std::vector<uint8_t> out = png_header_bytes(10, 10);
  put_u32_be(out, 0);
  const size_t chunk = out.size();
  out.insert(out.end(), {0x9b, 'X', 'Y', 'Z'});
  put_u32_be(out, static_cast<uint32_t>(crc32(0, out.data() + chunk, 4)));
  return out;
}

// A 24-bit BMP file header and BITMAPINFOHEADER for the stated size, without pixel data.
inline std::vector<uint8_t> bmp_header_bytes(uint32_t width, uint32_t height) {
  std::vector<uint8_t> out{'B', 'M'};
  put_u32_le(out, 54);  // file size: a lie, as is the rest
  put_u32_le(out, 0);
  put_u32_le(out, 54);  // pixel data offset
  put_u32_le(out, 40);  // BITMAPINFOHEADER
  put_u32_le(out, width);
  put_u32_le(out, height);
  out.insert(out.end(), {1, 0, 24, 0});  // planes, bits per pixel
  for (int i = 0; i < 6; ++i) put_u32_le(out, 0);
  return out;
}

}  // namespace mnistnet::testing
