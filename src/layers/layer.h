#pragma once
// The interface every layer implements. Tensors are contiguous, batch-major float32:
// x is [batch, input elements], y is [batch, output elements], in the shapes that build() agreed.
//
// Life of a layer: build(input shape) once -> initialize(rng) for fresh weights (or the model
// loader fills params()) -> reserve(max batch) plans workspace once -> forward/backward per batch.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "core/shape.h"

namespace mnistnet {

// A layer's input does not fit it. The message says what was expected; the model adds which
// layer of which file.
class ShapeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Keras's L1L2 weight regularizer of one parameter: the loss gains l1 * sum|w| + l2 * sum(w^2)
// (optim/regularizer.h applies it). Both 0: none.
struct Regularizer {
  double l1 = 0.0, l2 = 0.0;
  bool active() const { return l1 != 0.0 || l2 != 0.0; }
};

// One parameter tensor, as the optimizer, the summary and the model file see it.
struct ParamRef {
  ParamRef() = default;
  // {name, shape, value, grad, trainable}, as layers list their parameters; the regularizer is
  // set apart (a constructor, not an aggregate, so a list without it is complete).
  ParamRef(std::string name_, Shape shape_, float* value_, float* grad_, bool trainable_ = true)
      : name(std::move(name_)),
        shape(std::move(shape_)),
        value(value_),
        grad(grad_),
        trainable(trainable_) {}

  std::string name;  // "kernel", "bias", "moving_mean" ...
  Shape shape;
  float* value = nullptr;
  float* grad = nullptr;  // nullptr for non-trainable parameters
  bool trainable = true;
  Regularizer regularizer;  // kernel_regularizer / bias_regularizer; none by default

  int64_t size() const { return element_count(shape); }
};

class Layer {
 public:
  virtual ~Layer() = default;
  Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  // Keras class name of this operation ("Dense", "Activation" ...).
  virtual const char* type() const = 0;

  // Checks the per-example input shape, sizes the parameters, returns the output shape.
  // Throws ShapeError when the input does not fit.
  virtual Shape build(const Shape& input) = 0;

  virtual void initialize(Rng& rng) { (void)rng; }
  virtual std::vector<ParamRef> params() { return {}; }

  // Plans per-batch workspace for batches of up to max_batch examples. Called before the first
  // forward and whenever the maximum grows; nothing is allocated per batch.
  virtual void reserve(int64_t max_batch) { (void)max_batch; }

  // x: [batch, in] -> y: [batch, out]. `training` selects dropout and batch statistics.
  virtual void forward(const float* x, float* y, int64_t batch, bool training) = 0;

  // Given x, y of the last training forward and dy = dL/dy, writes dx = dL/dx (dx may be
  // nullptr when nobody needs it) and overwrites (does not add to) the parameter gradients.
  virtual void backward(const float* x, const float* y, const float* dy, float* dx,
                        int64_t batch) = 0;

  // Asks the layer to apply a relu to its own output, so the model can skip the
  // Activation("relu") op that follows it and one pass over the tensor each way. A layer that
  // agrees returns true; from then on forward writes relu(y), and backward gets that as y and
  // d(loss)/d(relu(y)) as dy. No layer does by default.
  virtual bool absorb_relu() { return false; }
  // Multiply-adds times two for one example's forward pass (for bench's GFLOP/s).
  virtual int64_t forward_flops() const { return 0; }

  // The random generators a training forward draws from (Dropout's masks), so checkpoints can
  // save and restore them and a resumed run draws the same masks. None by default.
  virtual std::vector<Rng*> training_rngs() { return {}; }
};

}  // namespace mnistnet
