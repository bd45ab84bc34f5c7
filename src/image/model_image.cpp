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

std::string image_input_mismatch(const ImagePreparation& how, const Shape& input_shape) {
  const Shape& s = how.image_shape;
  const int64_t inputs = element_count(input_shape);
  if (element_count(s) != inputs) {
    return "the model's images are " + shape_string(s) + " but its input_shape " +
           shape_string(input_shape) + " takes " + std::to_string(inputs) + " values";
  }
  if (how.preprocessing == ImagePreprocessing::digits && inputs != kDigitPixels) {
    return "a digit model must take 28x28 images (" + std::to_string(kDigitPixels) +
           " inputs); this one takes " + shape_string(input_shape);
  }
  return "";
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
