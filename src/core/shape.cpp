#include "core/shape.h"

namespace mnistnet {

int64_t element_count(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string keras_shape_string(const Shape& shape) {
  std::string s = "(None";
  for (int64_t d : shape) s += ", " + std::to_string(d);
  return s + ")";
}

std::string shape_string(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace mnistnet
