// Loading and averaging an ensemble of models (see ensemble.h).
#include "cli/ensemble.h"

#include <algorithm>
#include <cmath>

#include "cli/latest_run.h"
#include "core/errors.h"
#include "core/shape.h"
#include "serve/class_scores.h"

namespace mnistnet {
namespace {

void check_member(const EnsembleMember& first, const EnsembleMember& m) {
  const ModelMeta &a = first.loaded.meta, &b = m.loaded.meta;
  const std::string where = m.path.string() + ": an ensemble's models must ";
  const std::string other = first.path.string() + "'s ";
  if (b.image.image_shape != a.image.image_shape ||
      m.loaded.model.input_size() != first.loaded.model.input_size())
    throw UserError(where + "take the same images, but this one takes " +
                    shape_string(b.image.image_shape) + " (input_shape " +
                    shape_string(m.loaded.model.input_shape()) + ") and " + other + "take " +
                    shape_string(a.image.image_shape) + " (input_shape " +
                    shape_string(first.loaded.model.input_shape()) + ")");
  const int64_t classes = first.loaded.model.num_outputs();
  if (m.loaded.model.num_outputs() != classes)
    throw UserError(where + "have the same classes, but this one has " +
                    std::to_string(m.loaded.model.num_outputs()) + " and " + other + "has " +
                    std::to_string(classes));
  for (int64_t c = 0; c < classes; ++c)
    if (class_name(a, c) != class_name(b, c))
      throw UserError(where + "have the same classes, but its class " + std::to_string(c) +
                      " is \"" + class_name(b, c) + "\" and " + other + "is \"" + class_name(a, c) +
                      "\"");
  if (a.image.preprocessing != b.image.preprocessing)
    throw UserError(where + "prepare images the same way, but this one's preprocessing is \"" +
                    preprocessing_name(b.image.preprocessing) + "\" and " + other + "\"" +
                    preprocessing_name(a.image.preprocessing) + "\"");
}

}  // namespace

std::vector<EnsembleMember> load_ensemble(const std::vector<std::string>& given) {
  std::vector<EnsembleMember> members;
  const std::vector<std::string> paths = given.empty() ? std::vector<std::string>{""} : given;
  for (const std::string& p : paths) {
    const std::filesystem::path path = resolve_model_path(p);
    members.push_back({path, load_model(path)});
    if (members.size() > 1) check_member(members.front(), members.back());
  }
  return members;
}

void ensemble_probabilities(std::vector<EnsembleMember>& members, const uint8_t* pixels,
                            int64_t count, std::vector<float>& x, std::vector<float>& out) {
  const int64_t classes = members.front().loaded.model.num_outputs();
  const auto size = static_cast<size_t>(members.front().loaded.model.input_size());
  const auto n = static_cast<size_t>(count);
  out.assign(n * static_cast<size_t>(classes), 0.0f);
  x.resize(n * size);
  for (EnsembleMember& m : members) {
    const auto scale = static_cast<float>(1.0 / m.loaded.meta.pixel_divisor);
    for (size_t j = 0; j < n * size; ++j) x[j] = pixels[j] * scale;
    const float* y = m.loaded.model.predict(x.data(), count);
    for (size_t i = 0; i < n; ++i) {
      const std::vector<float> p = output_probabilities(
          y + static_cast<int64_t>(i) * classes, classes, m.loaded.model.ends_with_softmax());
      float* row = out.data() + i * static_cast<size_t>(classes);
      for (int64_t c = 0; c < classes; ++c) row[c] += p[static_cast<size_t>(c)];
    }
  }
  const auto k = static_cast<float>(members.size());
  for (float& v : out) v /= k;
}

Evaluation evaluate_ensemble(std::vector<EnsembleMember>& members, const Dataset& data,
                             int64_t batch_size, std::vector<int32_t>* predicted) {
  const int64_t classes = members.front().loaded.model.num_outputs();
  const auto size = static_cast<size_t>(data.image_size());
  if (predicted) predicted->assign(static_cast<size_t>(data.count), 0);
  std::vector<float> x, p;
  double loss = 0;
  int64_t correct = 0;
  for (int64_t start = 0; start < data.count; start += batch_size) {
    const int64_t n = std::min(batch_size, data.count - start);
    ensemble_probabilities(members, data.pixels.data() + static_cast<size_t>(start) * size, n, x,
                           p);
    for (int64_t i = 0; i < n; ++i) {
      const float* row = p.data() + i * classes;
      const auto best = static_cast<int32_t>(std::max_element(row, row + classes) - row);
      const uint8_t label = data.labels[static_cast<size_t>(start + i)];
      correct += best == label;
      loss -= std::log(std::clamp(static_cast<double>(row[label]), 1e-7, 1.0));
      if (predicted) (*predicted)[static_cast<size_t>(start + i)] = best;
    }
  }
  Evaluation e;
  e.count = data.count;
  if (data.count > 0) {
    e.loss = loss / static_cast<double>(data.count);
    e.accuracy = static_cast<double>(correct) / static_cast<double>(data.count);
  }
  return e;
}

std::string ensemble_name(const std::vector<EnsembleMember>& members) {
  if (members.size() == 1) return members.front().path.string();
  std::string list;
  for (const EnsembleMember& m : members) list += (list.empty() ? "" : ", ") + m.path.string();
  return "an ensemble of " + std::to_string(members.size()) + " models (" + list + ")";
}

}  // namespace mnistnet
