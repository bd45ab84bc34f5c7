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

}  // namespace mnistnet
