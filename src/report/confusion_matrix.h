#pragma once
// Counts of (true class, predicted class) pairs over a data set.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mnistnet {

struct ConfusionMatrix {
  int classes = 0;
  std::vector<int64_t> counts;  // [classes (true), classes (predicted)], row-major

  int64_t at(int truth, int predicted) const {
    return counts[static_cast<size_t>(truth) * static_cast<size_t>(classes) +
                  static_cast<size_t>(predicted)];
  }
  int64_t total() const;
  int64_t correct() const;  // the diagonal
};

// Labels and predictions must be as many, each in [0, classes) (std::invalid_argument otherwise).
ConfusionMatrix confusion_matrix(const std::vector<uint8_t>& labels,
                                 const std::vector<int32_t>& predicted, int classes);

// One class's scores, as scikit-learn's classification_report: precision = right / predicted
// as the class, recall = right / truly the class, F1 their harmonic mean (0 when undefined),
// support = examples truly of the class.
struct ClassScores {
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;
};
std::vector<ClassScores> class_scores(const ConfusionMatrix& m);

}  // namespace mnistnet
