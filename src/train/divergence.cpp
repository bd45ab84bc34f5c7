#include "train/divergence.h"

#include <cmath>

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
  const std::vector<SummaryRow> rows = model.summary_rows();
  const std::vector<ParamRef> params = model.params();
  // Run the batch through layers [0, k] for growing k; Flatten at the end makes every prefix a
  // valid model (flat output, not ending in an activation) without changing its values.
  const ModelSpec& spec = model.spec();
  for (size_t k = 0; k < spec.layers.size(); ++k) {
    ModelSpec prefix = spec;
    prefix.layers.resize(k + 1);
    prefix.layers.push_back(
        LayerSpec{"Flatten", {{"type", "Flatten"}}, "/model/layers/" + std::to_string(k + 1)});
    try {
      Model probe = Model::build(prefix, 0);
      std::vector<ParamRef> to = probe.params();
      for (size_t i = 0; i < to.size() && i < params.size(); ++i)
        std::copy(params[i].value, params[i].value + params[i].size(), to[i].value);
      probe.reserve(batch.size);
      const float* out = probe.forward_logits(batch.images, batch.size, /*training=*/true);
      if (!all_finite(out, probe.num_outputs() * batch.size))
        return describe_layer(rows, k) + ": its output is not finite";
    } catch (const std::exception&) {
      continue;  // a prefix that cannot stand alone: the next one includes it
    }
  }
  return "no layer output is non-finite when the batch runs again (dropout draws differ)";
}

}  // namespace mnistnet
