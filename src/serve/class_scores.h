#pragma once
// A model's outputs for one example -> class probabilities and the best classes: what
// `mnistnet predict` prints and `mnistnet serve` answers, computed by the same code.
#include <cstdint>
#include <vector>

namespace mnistnet {

struct ClassScore {
  int64_t index;  // output (class) index
  float score;    // its probability
};

// outputs: [n] for one example. A model without a final softmax outputs logits, which the
// training loss turned into probabilities the same way; `already` says it ends with softmax.
std::vector<float> output_probabilities(const float* outputs, int64_t n, bool already);

// The k most probable classes, best first; ties go to the lower index.
std::vector<ClassScore> top_classes(const std::vector<float>& probabilities, int64_t k);

}  // namespace mnistnet
