#pragma once
// A hand-made run directory for the report tests: metrics.csv and batches.csv with known
// numbers, a config.json, a tiny model, a small synthetic validation set and predictions
// where a known set of examples is wrong.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "config/config_loader.h"
#include "data/dataset.h"
#include "model/model.h"
#include "synthetic_idx.h"
#include "text_file.h"

namespace mnistnet::testing {

inline Model tiny_report_model() {
  const auto spec = nlohmann::json::parse(R"({"input_shape": [28, 28, 1], "layers": [
      {"type": "Flatten"}, {"type": "Dense", "units": 10, "activation": "softmax"}]})");
  return Model::build(parse_model_spec(spec, "test.json", "/model"), 1);
}

// metrics.csv for `epochs` epochs; the lr halves every epoch.
inline std::string metrics_text(int epochs) {
  std::string text = "epoch,accuracy,loss,lr,val_accuracy,val_loss,seconds\n";
  for (int e = 0; e < epochs; ++e) {
    char row[200];
    std::snprintf(row, sizeof row, "%d,%.4f,%.4f,%g,%.4f,%.4f,%.3f\n", e, 0.90 + 0.02 * e,
                  0.30 - 0.05 * e, 0.01 / (1 << e), 0.91 + 0.02 * e, 0.28 - 0.04 * e, 1.5);
    text += row;
  }
  return text;
}

// batches.csv with `steps` batches in each of `epochs` epochs.
inline std::string batches_text(int epochs, int steps) {
  std::string text = "epoch,step,loss,accuracy\n";
  for (int e = 0; e < epochs; ++e)
    for (int s = 1; s <= steps; ++s) {
      char row[100];
      std::snprintf(row, sizeof row, "%d,%d,%.4f,%.4f\n", e, s, 0.5 - 0.1 * e - 0.01 * s,
                    0.85 + 0.03 * e + 0.002 * s);
      text += row;
    }
  return text;
}

struct ReportRun {
  TempDir dir;
  std::filesystem::path run = dir.path / "run";
  Dataset validation;
  std::vector<int32_t> predicted;
  int64_t wrong = 0;

  // Every 7th example (0, 7, 14, ...) is predicted one class off.
  explicit ReportRun(int epochs = 3, int steps = 5, int64_t count = 50, bool with_batches = true) {
    std::filesystem::create_directories(run);
    write_text(run, "metrics.csv", metrics_text(epochs));
    if (with_batches) write_text(run, "batches.csv", batches_text(epochs, steps));
    write_text(run, "config.json", R"({"name": "tiny <test> & co", "seed": 1})");
    validation = synthetic_dataset(count);
    predicted.resize(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
      const int label = validation.labels[static_cast<size_t>(i)];
      const bool off = i % 7 == 0;
      predicted[static_cast<size_t>(i)] = off ? (label + 1) % 10 : label;
      wrong += off;
    }
  }
};

}  // namespace mnistnet::testing
