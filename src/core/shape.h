#pragma once
// Shapes of one example (no batch dimension), NHWC for images: {784}, {28, 28, 1}, {14, 14, 24}.
#include <cstdint>
#include <string>
#include <vector>

namespace mnistnet {

using Shape = std::vector<int64_t>;

int64_t element_count(const Shape& shape);

// Keras notation with the batch dimension first: "(None, 28, 28, 1)".
std::string keras_shape_string(const Shape& shape);

// Plain notation: "[28, 28, 1]".
std::string shape_string(const Shape& shape);

}  // namespace mnistnet
