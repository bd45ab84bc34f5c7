#include "report/png_encode.h"

#include <stb_image_write.h>

#include <stdexcept>
#include <string>

namespace mnistnet {

namespace {

void append(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  const auto* bytes = static_cast<const uint8_t*>(data);
  out->insert(out->end(), bytes, bytes + size);
}

}  // namespace

std::vector<uint8_t> encode_png(const uint8_t* pixels, int width, int height, int channels) {
  std::vector<uint8_t> png;
  if (width <= 0 || height <= 0 || (channels != 1 && channels != 3) ||
      stbi_write_png_to_func(append, &png, width, height, channels, pixels, width * channels) == 0)
    throw std::runtime_error("PNG encoding failed for a " + std::to_string(width) + "x" +
                             std::to_string(height) + "x" + std::to_string(channels) + " image");
  return png;
}

}  // namespace mnistnet
