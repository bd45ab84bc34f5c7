#include "image/model_image.h"

#include "image/digit_preprocess.h"
#include "image/resize.h"

namespace mnistnet {

std::vector<uint8_t> prepare_image(std::span<const uint8_t> bytes, const std::string& name,
                                   const ImagePreparation& how, const ImageLimits& limits) {
  if (how.preprocessing == "digits") {
    const DigitImage digit = preprocess_digit(decode_grey_image(bytes, name, limits), name);
    return {digit.pixels.begin(), digit.pixels.end()};
  }
  const Shape& s = how.image_shape;
  const PixelImage image = decode_image(bytes, name, static_cast<int>(s[2]), limits);
  return resize_image(image.pixels.data(), image.width, image.height, image.channels,
                      static_cast<int>(s[1]), static_cast<int>(s[0]));
}

}  // namespace mnistnet
