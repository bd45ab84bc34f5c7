#pragma once
// Keras-style progress on the console:
//   Epoch 1/10
//   468/468 [==============================] - 2s 4ms/step - loss: 0.0734 - accuracy: 0.9787 -
//   val_loss: ...
// As a bar redrawn in place on a terminal, or one line per epoch otherwise (logs, pipes).
#include <chrono>
#include <cstdio>

#include "train/trainer.h"

namespace mnistnet {

class ConsoleProgress final : public TrainingObserver {
 public:
  enum class Style { bar, epoch };
  ConsoleProgress(std::FILE* out, Style style) : out_(out), style_(style) {}

  void on_epoch_begin(int epoch, int epochs, int64_t steps, double lr) override;
  void on_batch_end(int64_t step, double loss, double accuracy, double lr) override;
  void on_epoch_end(const EpochResult& result) override;

 private:
  void draw(int64_t step, double loss, double accuracy, double seconds);

  std::FILE* out_;
  Style style_;
  int epoch_ = 0, epochs_ = 0;
  int64_t steps_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace mnistnet
