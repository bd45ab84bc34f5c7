#pragma once
// Keras's image-augmentation layers in a config: RandomTranslation, RandomRotation, RandomZoom,
// RandomFlip, RandomCrop, RandomContrast, RandomBrightness, with their argument names, defaults
// and checks. They may open /model/layers (where a Keras model has them) or fill
// /data/augmentation; either way they become the training pipeline's augmentation
// (src/data/augmenter.h), never layers of the model.
#include <nlohmann/json.hpp>
#include <string>

#include "data/augment_spec.h"

namespace mnistnet {

// True for the Keras class names above (the case of the name matters, as in Keras).
bool is_augmentation_layer(const std::string& type);

// One layer object ({"type": "RandomRotation", "factor": 0.05}) at `pointer` of `source`.
// ConfigError "SOURCE: POINTER/KEY: ..." for an unknown argument or a bad value.
AugmentLayer parse_augmentation_layer(const nlohmann::json& layer, const std::string& source,
                                      const std::string& pointer);

}  // namespace mnistnet
