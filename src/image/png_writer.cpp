// stb_image_write encodes (libstb.so holds its implementation); the bytes go through
// write_file_atomically so a dump is never half-written.
#include "image/png_writer.h"

#include <stb_image_write.h>

#include "core/atomic_file.h"
#include "core/errors.h"

namespace mnistnet {

std::string encode_grey_png(const uint8_t* pixels, int width, int height) {
  return encode_png_image(pixels, width, height, 1);
}

std::string encode_png_image(const uint8_t* pixels, int width, int height, int channels) {
  std::string out;
  auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data),
                                               static_cast<size_t>(size));
  };
  if (stbi_write_png_to_func(append, &out, width, height, channels, pixels, width * channels) ==
      0) {
    throw UserError("cannot encode a " + std::to_string(width) + "x" + std::to_string(height) +
                    " PNG");
  }
  return out;
}

void write_grey_png(const std::filesystem::path& path, const uint8_t* pixels, int width,
                    int height) {
  write_file_atomically(path, encode_grey_png(pixels, width, height));
}

void write_png(const std::filesystem::path& path, const uint8_t* pixels, int width, int height,
               int channels) {
  write_file_atomically(path, encode_png_image(pixels, width, height, channels));
}

}  // namespace mnistnet
