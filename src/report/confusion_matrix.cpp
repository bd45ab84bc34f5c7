#include "report/confusion_matrix.h"

#include <numeric>
#include <stdexcept>
#include <string>

namespace mnistnet {

int64_t ConfusionMatrix::total() const {
  return std::accumulate(counts.begin(), counts.end(), int64_t{0});
}

int64_t ConfusionMatrix::correct() const {
  int64_t sum = 0;
  for (int c = 0; c < classes; ++c) sum += at(c, c);
  return sum;
}

ConfusionMatrix confusion_matrix(const std::vector<uint8_t>& labels,
                                 const std::vector<int32_t>& predicted, int classes) {
  if (labels.size() != predicted.size())
    throw std::invalid_argument("confusion matrix: " + std::to_string(labels.size()) +
                                " labels but " + std::to_string(predicted.size()) + " predictions");
  if (classes <= 0) throw std::invalid_argument("confusion matrix: no classes");
  ConfusionMatrix m{classes, std::vector<int64_t>(
                                 static_cast<size_t>(classes) * static_cast<size_t>(classes), 0)};
  for (size_t i = 0; i < labels.size(); ++i) {
    const int truth = labels[i], guess = predicted[i];
    if (truth >= classes || guess < 0 || guess >= classes)
      throw std::invalid_argument("confusion matrix: example " + std::to_string(i) + " has label " +
                                  std::to_string(truth) + ", predicted " + std::to_string(guess) +
                                  ", with " + std::to_string(classes) + " classes");
    ++m.counts[static_cast<size_t>(truth) * static_cast<size_t>(classes) +
               static_cast<size_t>(guess)];
  }
  return m;
}

std::vector<ClassScores> class_scores(const ConfusionMatrix& m) {
  std::vector<ClassScores> out(static_cast<size_t>(m.classes));
  for (int c = 0; c < m.classes; ++c) {
    int64_t predicted = 0, truth = 0;
    for (int k = 0; k < m.classes; ++k) {
      predicted += m.at(k, c);
      truth += m.at(c, k);
    }
    ClassScores& s = out[static_cast<size_t>(c)];
    const auto right = static_cast<double>(m.at(c, c));
    s.support = truth;
    s.precision = predicted > 0 ? right / static_cast<double>(predicted) : 0.0;
    s.recall = truth > 0 ? right / static_cast<double>(truth) : 0.0;
    s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
  }
  return out;
}

}  // namespace mnistnet
