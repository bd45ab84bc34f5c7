#pragma once
// A small, fast training set-up for the checkpoint, resume and early-stopping tests: 8x8
// synthetic images, a model with every kind of state a checkpoint must carry (convolution,
// batch-norm moving statistics, dropout masks), Adam, an exponential learning-rate schedule,
// a shuffle buffer smaller than the data and a prefetch thread.
#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config_loader.h"
#include "model/model.h"
#include "synthetic_idx.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

namespace mnistnet::testing {

inline nlohmann::json resume_config_json(uint64_t seed) {
  nlohmann::json doc = nlohmann::json::parse(R"({
    "data": {"shuffle_buffer": 50, "prefetch": 2, "validation_batch_size": 64},
    "model": {"input_shape": [8, 8, 1], "layers": [
      {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same", "use_bias": false},
      {"type": "BatchNormalization"},
      {"type": "Activation", "activation": "relu"},
      {"type": "Flatten"},
      {"type": "Dense", "units": 16, "activation": "relu"},
      {"type": "Dropout", "rate": 0.3},
      {"type": "Dense", "units": 10, "activation": "softmax"}]},
    "training": {"epochs": 3, "batch_size": 16,
                 "optimizer": {"type": "adam", "learning_rate": 0.01},
                 "lr_schedule": {"type": "exponential", "decay_rate": 0.7}},
    "output": {"progress": "none"}
  })");
  doc["seed"] = seed;
  return doc;
}

inline Config resume_config(uint64_t seed, const std::vector<std::string>& overrides = {}) {
  nlohmann::json doc = resume_config_json(seed);
  for (const auto& o : overrides) apply_override(doc, o, "test");
  Config c = parse_config(doc, "resume_test.json");
  return c;
}

// Asks fit to stop after global step `at` (1-based), as a signal would.
struct StopAtStep final : TrainingObserver {
  std::atomic<int> flag{0};
  int64_t at, seen = 0;
  explicit StopAtStep(int64_t step) : at(step) {}
  void on_resume(const std::vector<EpochResult>&, const nlohmann::json&) override {}
  void on_batch_end(int64_t, double, double, double) override {
    if (++seen == at) flag.store(2);
  }
};

inline std::vector<std::vector<float>> weights_of(Model& model) {
  std::vector<std::vector<float>> w;
  for (const ParamRef& p : model.params()) w.emplace_back(p.value, p.value + p.size());
  return w;
}

// Rows without the seconds column, which legitimately differs.
inline std::vector<std::vector<double>> rows_without_seconds(const std::vector<EpochResult>& rows) {
  std::vector<std::vector<double>> out;
  for (const EpochResult& r : rows)
    out.push_back(
        {static_cast<double>(r.epoch), r.accuracy, r.loss, r.lr, r.val_accuracy, r.val_loss});
  return out;
}

}  // namespace mnistnet::testing
