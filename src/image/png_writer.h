#pragma once
// 8-bit greyscale PNG output, for showing what a model was fed (predict --dump-preprocessed).
#include <cstdint>
#include <filesystem>
#include <string>

namespace mnistnet {

// pixels: [height, width] row-major. The PNG file's bytes.
std::string encode_grey_png(const uint8_t* pixels, int width, int height);

// pixels: [height, width, channels], channels 1 (grey) or 3 (RGB).
std::string encode_png_image(const uint8_t* pixels, int width, int height, int channels);
void write_png(const std::filesystem::path& path, const uint8_t* pixels, int width, int height,
               int channels);

// Written atomically; throws UserError naming the path when it cannot be written.
void write_grey_png(const std::filesystem::path& path, const uint8_t* pixels, int width,
                    int height);

}  // namespace mnistnet
