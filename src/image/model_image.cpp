#include "image/model_image.h"

#include "image/digit_preprocess.h"
#include "image/resize.h"

namespace mnistnet {

const char* preprocessing_name(ImagePreprocessing preprocessing) {
  return preprocessing == ImagePreprocessing::digits ? "digits" : "resize";
}

std::optional<ImagePreprocessing> parse_preprocessing(const std::string& name) {
  for (const ImagePreprocessing p : {ImagePreprocessing::digits, ImagePreprocessing::resize})
    if (name == preprocessing_name(p)) return p;
  return std::nullopt;
}

std::vector<uint8_t> prepare_image(std::span<const uint8_t> bytes, const std::string& name,
                                   const ImagePreparation& how, const ImageLimits& limits) {
  if (how.preprocessing == ImagePreprocessing::digits) {
    const DigitImage digit = preprocess_digit(decode_grey_image(bytes, name, limits), name);
    return {digit.pixels.begin(), digit.pixels.end()};
  }
  const Shape& s = how.image_shape;
  const PixelImage image = decode_image(bytes, name, static_cast<int>(s[2]), limits);
  return resize_image(image.pixels.data(), image.width, image.height, image.channels,
                      static_cast<int>(s[1]), static_cast<int>(s[0]));
}

}  // namespace mnistnet
