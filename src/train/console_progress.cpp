#include "train/console_progress.h"

#include <string>

namespace mnistnet {
namespace {

std::string bar(int64_t step, int64_t steps) {
  constexpr int64_t kWidth = 30;
  const int64_t done = steps ? step * kWidth / steps : kWidth;
  std::string b = "[";
  for (int64_t i = 0; i < kWidth; ++i) b += i < done ? '=' : (i == done ? '>' : '.');
  return b + "]";
}

// "4ms/step" or "850us/step", as Keras prints the per-step time.
std::string per_step(double seconds, int64_t steps) {
  const double s = steps ? seconds / static_cast<double>(steps) : 0.0;
  char text[32];
  if (s >= 1.0)
    std::snprintf(text, sizeof text, "%.0fs/step", s);
  else if (s >= 1e-3)
    std::snprintf(text, sizeof text, "%.0fms/step", s * 1e3);
  else
    std::snprintf(text, sizeof text, "%.0fus/step", s * 1e6);
  return text;
}

}  // namespace

void ConsoleProgress::on_epoch_begin(int epoch, int epochs, int64_t steps, double /*lr*/) {
  epoch_ = epoch;
  epochs_ = epochs;
  steps_ = steps;
  start_ = last_draw_ = std::chrono::steady_clock::now();
  if (style_ == Style::bar) {
    std::fprintf(out_, "Epoch %d/%d\n", epoch + 1, epochs);
    std::fflush(out_);
  }
}

void ConsoleProgress::on_batch_end(int64_t step, double loss, double accuracy, double /*lr*/) {
  if (style_ != Style::bar) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100) && step != steps_) return;
  last_draw_ = now;
  draw(step, loss, accuracy, std::chrono::duration<double>(now - start_).count());
}

void ConsoleProgress::draw(int64_t step, double loss, double accuracy, double seconds) {
  std::fprintf(out_, "\r%lld/%lld %s - %.0fs %s - loss: %.4f - accuracy: %.4f",
               static_cast<long long>(step), static_cast<long long>(steps_),
               bar(step, steps_).c_str(), seconds, per_step(seconds, step).c_str(), loss, accuracy);
  std::fflush(out_);
}

void ConsoleProgress::on_epoch_end(const EpochResult& r) {
  if (style_ == Style::bar) {
    draw(steps_, r.loss, r.accuracy, r.seconds);
  } else {
    std::fprintf(out_, "Epoch %d/%d - %lld/%lld - %.0fs %s - loss: %.4f - accuracy: %.4f",
                 r.epoch + 1, epochs_, static_cast<long long>(steps_),
                 static_cast<long long>(steps_), r.seconds, per_step(r.seconds, steps_).c_str(),
                 r.loss, r.accuracy);
  }
  std::fprintf(out_, " - val_loss: %.4f - val_accuracy: %.4f - lr: %.4g\n", r.val_loss,
               r.val_accuracy, r.lr);
  std::fflush(out_);
}

}  // namespace mnistnet
