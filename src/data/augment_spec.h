#pragma once
// One image-augmentation layer of a config, as Keras's preprocessing layers name it
// (RandomTranslation, RandomRotation, RandomZoom, RandomFlip, RandomCrop, RandomContrast,
// RandomBrightness). Plain data: src/config/augmentation_config.cpp reads it from JSON, the
// input pipeline applies it (augmenter.h). Factor ranges are already resolved: Keras's single
// float f stands here as the pair [-f, f] (RandomContrast: [f, f]).
#include <cstdint>
#include <string>

namespace mnistnet {

enum class AugmentKind { translation, rotation, zoom, flip, crop, contrast, brightness };

// How a sample outside the image is read (Keras's fill_mode, TensorFlow's
// ImageProjectiveTransform): reflect (d c b a | a b c d | d c b a), wrap (a b c d | a b c d),
// constant (k k | a b c d | k k, k = fill_value), nearest (a a | a b c d | d d).
enum class FillMode { reflect, wrap, constant, nearest };
enum class Interpolation { bilinear, nearest };

struct AugmentLayer {
  AugmentKind kind = AugmentKind::translation;
  std::string type;     // the Keras class name, for messages
  std::string pointer;  // where the config gave it ("/model/layers/0"), for messages
  // translation: height_factor; rotation: factor (fractions of a full turn); zoom: height_factor;
  // contrast: the contrast factor is drawn from [1 - lower, 1 + upper]; brightness: factor.
  double lower = 0.0, upper = 0.0;
  // translation: width_factor; zoom: width_factor when has_width (else the height's draw).
  double width_lower = 0.0, width_upper = 0.0;
  bool has_width = false;
  bool flip_horizontal = false, flip_vertical = false;  // flip: mode
  FillMode fill_mode = FillMode::reflect;
  Interpolation interpolation = Interpolation::bilinear;
  float fill_value = 0.0f;
  float value_min = 0.0f, value_max = 255.0f;  // contrast, brightness: value_range
  int64_t height = 0, width = 0;               // crop
};

}  // namespace mnistnet
