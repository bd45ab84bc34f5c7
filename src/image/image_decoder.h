#pragma once
// Image files -> one 8-bit greyscale plane, whatever the format and channels: PNG, JPEG, BMP,
// binary PGM/PPM. The other formats stb_image reads (GIF, TGA, PSD, HDR, PIC) are refused: they
// are not what people photograph digits with, and stb_image's decoders are not hardened against
// hostile files (see format_check.h).
//
// Colour becomes luminance (ITU-R BT.601 weights, as PIL's convert("L") that people use to make
// MNIST-like images); alpha is composited over white, since a transparent background is paper.
// Files are size-checked and headers dimension-checked before anything is decoded, so a hostile
// or corrupt file costs an error message, not gigabytes.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "image/image_error.h"

namespace mnistnet {

struct GreyImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // [height, width], row-major; 0 = black, 255 = white

  uint8_t at(int x, int y) const {
    return pixels[static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)];
  }
};

struct ImageLimits {
  int64_t max_file_bytes = int64_t{256} << 20;  // 256 MiB
  int max_side = 16384;                         // pixels per side
  int64_t max_pixels = int64_t{64} << 20;       // 64 Mpixel: up to 256 MiB decoded as RGBA
};

// Throws ImageError "NAME: reason" for an empty, oversized, unrecognised, truncated or corrupt
// image; `name` is only used in messages.
GreyImage decode_grey_image(std::span<const uint8_t> bytes, const std::string& name,
                            const ImageLimits& limits = {});

// An image with 1 (grey) or 3 (RGB) channels, for data sets of images.
struct PixelImage {
  int width = 0, height = 0, channels = 1;
  std::vector<uint8_t> pixels;  // [height, width, channels], row-major
};

// Decodes as decode_grey_image does, to `channels` 1 (luminance) or 3 (RGB; grey repeated);
// alpha is composited over white either way.
PixelImage decode_image(std::span<const uint8_t> bytes, const std::string& name, int channels,
                        const ImageLimits& limits = {});

// A file's bytes, refusing more than limits.max_file_bytes (ImageError "PATH: ...").
std::vector<uint8_t> read_image_file(const std::filesystem::path& path,
                                     const ImageLimits& limits = {});

// Reads the file (refusing more than limits.max_file_bytes) and decodes it. Throws ImageError
// "PATH: reason" also for a missing, unreadable or non-regular file.
GreyImage read_grey_image(const std::filesystem::path& path, const ImageLimits& limits = {});

}  // namespace mnistnet
