#pragma once
// When the training loss stops being finite, where did the first non-finite value appear?
// Only run after the loss went bad, so the training loop pays nothing for it.
#include <string>

#include "data/pipeline.h"
#include "model/model.h"

namespace mnistnet {

// "layer 2 \"dense\" (Dense): its kernel holds non-finite values[, after a non-finite gradient
// in the previous step]" for the first parameter that is not finite, or "" when all are.
std::string non_finite_parameter(Model& model);

// Describes the first non-finite value, in this order:
//  1. a parameter holding non-finite values (a previous update broke it), and whether the
//     gradient that update used (still in the model's gradient buffers) was non-finite;
//  2. otherwise the first config layer whose output is not finite when `batch` runs again, in
//     training mode, through a copy of the model (`model` is not changed).
// For example: layer 3 "dense_1" (Dense): its output is not finite.
std::string locate_non_finite(Model& model, const Batch& batch);

}  // namespace mnistnet
