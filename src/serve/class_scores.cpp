#include "serve/class_scores.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace mnistnet {

std::vector<float> output_probabilities(const float* outputs, int64_t n, bool already) {
  std::vector<float> p(outputs, outputs + n);
  if (already || p.empty()) return p;
  const float top = *std::max_element(p.begin(), p.end());
  double sum = 0.0;
  for (float& v : p) sum += (v = std::exp(v - top));
  for (float& v : p) v = static_cast<float>(v / sum);
  return p;
}

std::vector<ClassScore> top_classes(const std::vector<float>& probabilities, int64_t k) {
  std::vector<ClassScore> all;
  all.reserve(probabilities.size());
  for (size_t i = 0; i < probabilities.size(); ++i)
    all.push_back({static_cast<int64_t>(i), probabilities[i]});
  const auto keep = static_cast<std::ptrdiff_t>(
      std::min<size_t>(static_cast<size_t>(std::max<int64_t>(k, 0)), all.size()));
  std::partial_sort(all.begin(), all.begin() + keep, all.end(),
                    [](const ClassScore& a, const ClassScore& b) {
                      return a.score > b.score || (a.score == b.score && a.index < b.index);
                    });
  all.resize(static_cast<size_t>(keep));
  return all;
}

}  // namespace mnistnet
