#pragma once
// Keras's padding / cropping argument, read by the registry (ZeroPadding2D, Cropping2D) and by
// the ONNX exporter, so both read the one argument the same way.
#include <string>

#include "config/json_fields.h"
#include "layers/zero_padding.h"

namespace mnistnet {

// The argument `key`: an int (all four sides), [h, w] (symmetric per axis) or
// [[top, bottom], [left, right]], every number an integer >= 0; absent: `fallback` on every side.
// Returns {top, bottom, left, right}; anything else is f.fail naming the key.
Padding2D read_padding_sides(JsonFields& f, const std::string& key, int64_t fallback);

}  // namespace mnistnet
