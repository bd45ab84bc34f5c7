#pragma once
// Keras's model.summary() table, as text.
#include <string>

#include "model/model.h"

namespace mnistnet {

struct ParamCounts {
  int64_t trainable = 0, non_trainable = 0;
};

ParamCounts count_params(Model& model);

std::string summary_table(Model& model, const std::string& name);

}  // namespace mnistnet
