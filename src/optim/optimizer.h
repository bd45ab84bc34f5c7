#pragma once
// Optimizers update the trainable parameters from their gradients. They share one skeleton:
// attach() sizes the state once, step() applies the update rule to every parameter.
#include <cstdint>
#include <memory>
#include <vector>

#include "config/spec.h"
#include "layers/layer.h"

namespace mnistnet {

class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // Keeps the trainable ones of `params` and allocates per-parameter state.
  void attach(const std::vector<ParamRef>& params);
  // One update with learning rate lr.
  void step(float lr);
  int64_t iterations() const { return iterations_; }

  // Keras's name of the update rule: "sgd" or "adam".
  virtual const char* name() const = 0;
  // Checkpoints: the state slots, [trainable param * slots + slot], each the size of its
  // parameter (Adam: m then v; SGD with momentum: the velocity; plain SGD: none).
  const std::vector<std::vector<float>>& state() const { return state_; }
  // Continues from a saved state of the same optimizer type attached to the same parameters;
  // std::invalid_argument naming the slot when the sizes differ.
  void restore(int64_t iterations, const std::vector<std::vector<float>>& state);

 protected:
  // Number of state slots per parameter value (SGD momentum 1, Adam 2).
  virtual int state_slots() const = 0;
  // Updates n values w given gradients g and state slots; t is the 1-based step number.
  virtual void update(float* w, const float* g, float* const* state, int64_t n, float lr,
                      int64_t t) = 0;

 private:
  std::vector<ParamRef> params_;
  std::vector<std::vector<float>> state_;  // [param * slots + slot]
  int64_t iterations_ = 0;
};

// Keras SGD: v = momentum * v - lr * g; w += v (nesterov: w += momentum * v - lr * g).
class Sgd final : public Optimizer {
 public:
  Sgd(double momentum, bool nesterov)
      : momentum_(static_cast<float>(momentum)), nesterov_(nesterov) {}
  const char* name() const override { return "sgd"; }

 protected:
  int state_slots() const override { return momentum_ > 0.0f ? 1 : 0; }
  void update(float* w, const float* g, float* const* state, int64_t n, float lr,
              int64_t t) override;

 private:
  float momentum_;
  bool nesterov_;
};

// Keras Adam: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
// w -= lr * sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + epsilon).
class Adam final : public Optimizer {
 public:
  Adam(double beta_1, double beta_2, double epsilon)
      : beta_1_(beta_1), beta_2_(beta_2), epsilon_(static_cast<float>(epsilon)) {}
  const char* name() const override { return "adam"; }

 protected:
  int state_slots() const override { return 2; }
  void update(float* w, const float* g, float* const* state, int64_t n, float lr,
              int64_t t) override;

 private:
  double beta_1_, beta_2_;
  float epsilon_;
};

std::unique_ptr<Optimizer> make_optimizer(const OptimizerSpec& spec);

// The learning rate of a 0-based epoch: learning_rate * decay_rate^epoch + minimum.
double learning_rate_for_epoch(const OptimizerSpec& optimizer, const ScheduleSpec& schedule,
                               int epoch);

}  // namespace mnistnet
