// libFuzzer target: image file bytes -> grey image -> the 28x28 MNIST-style digit predict feeds
// the model. Only ImageError (a UserError) may come out. The limits are lowered so that large but
// legal images do not slow the search; the same code paths check them.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/errors.h"
#include "image/digit_preprocess.h"
#include "image/image_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mnistnet::ImageLimits limits;
  limits.max_side = 2048;
  limits.max_pixels = int64_t{1} << 20;
  try {
    const mnistnet::GreyImage image =
        mnistnet::decode_grey_image(std::span<const uint8_t>(data, size), "fuzz.png", limits);
    if (image.pixels.size() != static_cast<size_t>(image.width) * static_cast<size_t>(image.height))
      __builtin_trap();
    const mnistnet::DigitImage digit = mnistnet::preprocess_digit(image, "fuzz.png");
    (void)digit;
  } catch (const mnistnet::UserError&) {
  }
  return 0;
}
