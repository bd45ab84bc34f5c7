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

}  // namespace mnistnet
