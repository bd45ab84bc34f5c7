#pragma once
// An image file's bytes -> what a model takes, the one preparation `predict` and `serve` share:
// a digit model's image is made the way MNIST's digits were made (digit_preprocess.h); any
// other model's is decoded to its channels (grey or RGB) and resized to its image shape
// (resize.h). The model file says which (ModelMeta::image).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/shape.h"
#include "image/image_decoder.h"

namespace mnistnet {

enum class ImagePreprocessing {
  digits,  // MNIST's crop, 20x20 box and centre of mass, into 28x28 grey
  resize,  // a plain resize to image_shape, grey or RGB
};

// The name a model file and messages use, "digits" or "resize"; and back (nullopt for another).
const char* preprocessing_name(ImagePreprocessing preprocessing);
std::optional<ImagePreprocessing> parse_preprocessing(const std::string& name);

struct ImagePreparation {
  ImagePreprocessing preprocessing = ImagePreprocessing::digits;
  Shape image_shape = {28, 28, 1};  // [rows, cols, channels] of the model's images
};

// "" when what `how` makes of an image is an input of `input_shape`, else why not (one line
// without a file name): the image shape must have the input's element count, and a digit
// model's images are 28x28 grey. predict refuses such a model; serve takes only pixels for it.
// The one rule for both, so that a model file that says otherwise is handled the same way.
std::string image_input_mismatch(const ImagePreparation& how, const Shape& input_shape);

// [rows, cols, channels] bytes; throws ImageError "NAME: reason" for an undecodable image or,
// with "digits", one without a digit in it. `name` is only used in messages.
std::vector<uint8_t> prepare_image(std::span<const uint8_t> bytes, const std::string& name,
                                   const ImagePreparation& how, const ImageLimits& limits = {});

}  // namespace mnistnet
