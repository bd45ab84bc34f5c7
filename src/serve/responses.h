#pragma once
// The JSON bodies of TensorFlow Serving's REST answers: model status, metadata (the signature),
// predictions (row format) / outputs (columnar), classification results, errors.
// Floats are written in their shortest form that reads back to the same float32.
#include <cstdint>
#include <string>

#include "serve/request_parser.h"

namespace mnistnet {

struct ServedModel;

std::string status_json(const ServedModel& model);
std::string metadata_json(const ServedModel& model, const std::string& name);
// probabilities: [count, classes]
std::string predict_json(const float* probabilities, int64_t count, int64_t classes,
                         RequestFormat format);
// Every class as [name, score], best first, per example.
std::string classify_json(const ServedModel& model, const float* probabilities, int64_t count,
                          int64_t classes);
std::string error_json(const std::string& message);

}  // namespace mnistnet
