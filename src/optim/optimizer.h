#pragma once
// Optimizers update the trainable parameters from their gradients, as Keras 3's do. They
// share one skeleton (Keras's BaseOptimizer.apply): attach() sizes all state once, and step()
//   1. clips the gradients (clipnorm per tensor, global_clipnorm over all, or clipvalue),
//   2. decays the weights, w -= w * weight_decay * lr (decoupled, as AdamW),
//   3. applies the type's update rule,
//   4. updates the moving average of the weights (use_ema; ema_momentum, 0 on the first step)
//      and, every ema_overwrite_frequency steps, overwrites the weights with it.
// Every pass is element-wise on the thread pool (reductions in fixed chunks), so results do
// not depend on the thread count, and nothing is allocated per step.
#include <cstdint>
#include <memory>
#include <vector>

#include "config/spec.h"
#include "layers/layer.h"

namespace mnistnet {

class Optimizer {
 public:
  // The options of BaseOptimizer that every type shares (clipping, weight decay, EMA).
  explicit Optimizer(const OptimizerSpec& spec);
  virtual ~Optimizer() = default;

  // Keeps the trainable ones of `params` and allocates per-parameter state.
  void attach(const std::vector<ParamRef>& params);
  // One update with learning rate lr (also the rate of the weight decay).
  void step(float lr);
  int64_t iterations() const { return iterations_; }
  // The trainable parameters attached (regularizers are applied over these).
  const std::vector<ParamRef>& params() const { return params_; }
  // Scratch for chunked sums over any one of them (regularizer penalties), sized by attach().
  double* sum_scratch() { return partial_.data(); }

  // Keras's name of the update rule: "sgd", "adam", "adamw" or "rmsprop".
  virtual const char* name() const = 0;

  // use_ema: the moving average of the weights. swap_average() exchanges the weights and
  // their average (twice is the identity): the trainer validates on the average that way.
  // finalize() is Keras's finalize_variable_values: the weights become their average.
  bool uses_ema() const { return use_ema_; }
  void swap_average();
  void finalize();

  // Checkpoints: every trainable parameter's state slots in order, each the size of its
  // parameter: the rule's own (SGD with momentum: the velocity; Adam/AdamW: m, v, and v_hat
  // with amsgrad; RMSprop: the velocity, then the momentum when momentum > 0, then the average
  // gradient when centered), then its moving average when use_ema.
  const std::vector<std::vector<float>>& state() const { return state_; }
  // Continues from a saved state of the same optimizer type attached to the same parameters;
  // std::invalid_argument naming the slot when the sizes differ.
  void restore(int64_t iterations, const std::vector<std::vector<float>>& state);

 protected:
  static constexpr int kMaxSlots = 3;
  // Number of the update rule's state slots per parameter value (at most kMaxSlots).
  virtual int state_slots() const = 0;
  // Updates n values w given gradients g and state slots; t is the 1-based step number.
  virtual void update(float* w, const float* g, float* const* state, int64_t n, float lr,
                      int64_t t) = 0;

 private:
  int slots_per_param() const { return state_slots() + (use_ema_ ? 1 : 0); }
  float* slot(size_t param, int s) {
    return state_[param * static_cast<size_t>(slots_per_param()) + static_cast<size_t>(s)].data();
  }
  void clip_gradients();

  float weight_decay_, clipnorm_, clipvalue_, global_clipnorm_;
  bool use_ema_;
  float ema_momentum_;
  int64_t ema_overwrite_frequency_;
  std::vector<ParamRef> params_;
  std::vector<std::vector<float>> state_;  // [param * slots_per_param + slot]
  std::vector<double> partial_;            // chunk sums (gradient norms, penalties)
  int64_t iterations_ = 0;
};

// Keras SGD: v = momentum * v - lr * g; w += v (nesterov: w += momentum * v - lr * g).
class Sgd final : public Optimizer {
 public:
  explicit Sgd(const OptimizerSpec& spec)
      : Optimizer(spec), momentum_(static_cast<float>(spec.momentum)), nesterov_(spec.nesterov) {}
  const char* name() const override { return "sgd"; }

 protected:
  int state_slots() const override { return momentum_ > 0.0f ? 1 : 0; }
  void update(float* w, const float* g, float* const* state, int64_t n, float lr,
              int64_t t) override;

 private:
  float momentum_;
  bool nesterov_;
};

// Keras Adam (and AdamW, which is Adam with weight_decay 0.004 by default):
// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2 (amsgrad: v_hat = max(v_hat, v) replaces v below);
// w -= lr * sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + epsilon).
class Adam final : public Optimizer {
 public:
  explicit Adam(const OptimizerSpec& spec)
      : Optimizer(spec),
        adamw_(spec.type == "adamw"),
        amsgrad_(spec.amsgrad),
        beta_1_(spec.beta_1),
        beta_2_(spec.beta_2),
        epsilon_(static_cast<float>(spec.epsilon)) {}
  const char* name() const override { return adamw_ ? "adamw" : "adam"; }

 protected:
  int state_slots() const override { return amsgrad_ ? 3 : 2; }
  void update(float* w, const float* g, float* const* state, int64_t n, float lr,
              int64_t t) override;

 private:
  bool adamw_, amsgrad_;
  double beta_1_, beta_2_;
  float epsilon_;
};

// Keras RMSprop: v = rho v + (1-rho) g^2; centered: a = rho a + (1-rho) g, and the denominator
// is v - a^2 + epsilon, else v + epsilon; step = lr g / sqrt(denominator);
// momentum > 0: mom = momentum mom + step, w -= mom; else w -= step.
class RmsProp final : public Optimizer {
 public:
  explicit RmsProp(const OptimizerSpec& spec)
      : Optimizer(spec),
        rho_(spec.rho),
        momentum_(static_cast<float>(spec.momentum)),
        epsilon_(static_cast<float>(spec.epsilon)),
        centered_(spec.centered) {}
  const char* name() const override { return "rmsprop"; }

 protected:
  int state_slots() const override { return 1 + (momentum_ > 0.0f ? 1 : 0) + (centered_ ? 1 : 0); }
  void update(float* w, const float* g, float* const* state, int64_t n, float lr,
              int64_t t) override;

 private:
  double rho_;
  float momentum_, epsilon_;
  bool centered_;
};

std::unique_ptr<Optimizer> make_optimizer(const OptimizerSpec& spec);

}  // namespace mnistnet
