#pragma once
// PNG encoding through stb_image_write (Debian's libstb provides the implementation).
#include <cstdint>
#include <vector>

namespace mnistnet {

// pixels: [height, width, channels] row-major, channels 1 (grey) or 3 (RGB).
// Throws std::runtime_error if the encoder fails (it only does for invalid sizes).
std::vector<uint8_t> encode_png(const uint8_t* pixels, int width, int height, int channels);

}  // namespace mnistnet
