#pragma once
// The data a saved model is evaluated on (eval, report): its own reader settings and data set,
// or what --data names, which may be another directory or a single file of any format.
#include <string>

#include "data/data_source.h"
#include "model/model_file.h"

namespace mnistnet {

// A directory (or the model's own data): its test split. A file (.csv, .npz): that file, read
// as the training split is (all its examples). DataError when there is nothing labelled to
// evaluate on. `model_path` names the model in messages.
Dataset load_evaluation_data(const ModelMeta& meta, const std::string& data_override,
                             const std::string& model_path);

}  // namespace mnistnet
