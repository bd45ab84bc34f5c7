#include "model/weights.h"

#include <algorithm>

namespace mnistnet {

std::vector<NamedTensor> get_weights(Model& model) {
  std::vector<NamedTensor> all;
  for (const ParamRef& p : model.params())
    all.push_back({p.name, p.shape, std::vector<float>(p.value, p.value + p.size())});
  return all;
}

void set_weights(Model& model, const std::vector<NamedTensor>& weights, const std::string& source) {
  const std::vector<ParamRef> params = model.params();
  if (weights.size() != params.size()) {
    throw WeightsError(source + ": holds " + std::to_string(weights.size()) +
                       " parameters, the model has " + std::to_string(params.size()));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const NamedTensor& w = weights[i];
    const ParamRef& p = params[i];
    if (w.name != p.name || w.shape != p.shape) {
      throw WeightsError(source + ": parameter " + std::to_string(i) + " " + w.name + " " +
                         shape_string(w.shape) + " does not match the model's " + p.name + " " +
                         shape_string(p.shape));
    }
    if (static_cast<int64_t>(w.values.size()) != p.size()) {
      throw WeightsError(source + ": parameter " + w.name + " holds " +
                         std::to_string(w.values.size()) + " values, its shape " +
                         std::to_string(p.size()));
    }
  }
  for (size_t i = 0; i < params.size(); ++i)
    std::copy(weights[i].values.begin(), weights[i].values.end(), params[i].value);
}

void copy_weights(Model& from, Model& to, const std::string& source) {
  set_weights(to, get_weights(from), source);
}

}  // namespace mnistnet
