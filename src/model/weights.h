#pragma once
// Weights in and out of a model. set_weights is the one routine that puts weights into a model,
// whatever they come from (a model file, a checkpoint, another model, early stopping's best
// epoch): it checks every name and shape first, so a mismatch changes nothing, then copies.
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/shape.h"
#include "model/model.h"

namespace mnistnet {

// Weights that do not fit a model: "SOURCE: parameter dense/kernel (784, 200) does not match
// the model's dense/kernel (784, 100)".
class WeightsError : public UserError {
 public:
  using UserError::UserError;
};

struct NamedTensor {
  std::string name;  // "dense/kernel", as Model::params() names it
  Shape shape;
  std::vector<float> values;
};

// A copy of every parameter, trainable or not, in Model::params() order (Keras's get_weights).
std::vector<NamedTensor> get_weights(Model& model);

// Throws WeightsError naming `source` when the count, a name, a shape or a size differs.
void set_weights(Model& model, const std::vector<NamedTensor>& weights, const std::string& source);

// set_weights(to, get_weights(from), source).
void copy_weights(Model& from, Model& to, const std::string& source);

}  // namespace mnistnet
