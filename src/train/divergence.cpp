#include "train/divergence.h"

#include <cmath>

#include "model/weights.h"

namespace mnistnet {
namespace {

bool all_finite(const float* v, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i])) return false;
  return true;
}

std::string describe_layer(const std::vector<SummaryRow>& rows, size_t index) {
  return "layer " + std::to_string(index + 1) + " \"" + rows[index].name + "\" (" +
         rows[index].type + ")";
}

// The config layer a parameter ("dense_1/kernel") belongs to.
size_t layer_of(const std::vector<SummaryRow>& rows, const std::string& param) {
  const std::string group = param.substr(0, param.find('/'));
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i].name == group) return i;
  return 0;
}

}  // namespace

std::string non_finite_parameter(Model& model) {
  for (const ParamRef& p : model.params()) {
    if (all_finite(p.value, p.size())) continue;
    const std::vector<SummaryRow> rows = model.summary_rows();
    const std::string leaf = p.name.substr(p.name.find('/') + 1);
    const bool bad_grad = p.grad && !all_finite(p.grad, p.size());
    return describe_layer(rows, layer_of(rows, p.name)) + ": its " + leaf +
           " holds non-finite values" +
           (bad_grad ? ", after a non-finite gradient in the previous step" : "");
  }
  return "";
}

std::string locate_non_finite(Model& model, const Batch& batch) {
  if (std::string broken = non_finite_parameter(model); !broken.empty()) return broken;
  // A copy of the model with the same weights runs the batch op by op and checks every output,
  // so the model's own batch-norm statistics and generators stay as they are.
  Model probe = Model::build(model.spec(), 0);
  copy_weights(model, probe, "the model");
  const int64_t layer = probe.first_non_finite_layer(batch.images, batch.size);
  if (layer >= 0)
    return describe_layer(model.summary_rows(), static_cast<size_t>(layer)) +
           ": its output is not finite";
  return "no layer output is non-finite when the batch runs again (dropout draws differ)";
}

}  // namespace mnistnet
