#pragma once
// The interface every layer implements. Tensors are contiguous, batch-major float32:
// x is [batch, input elements], y is [batch, output elements], in the shapes that build() agreed.
//
// Life of a layer: build(input shape) once -> initialize(rng) for fresh weights (or the model
// loader fills params()) -> reserve(max batch) plans workspace once -> forward/backward per batch.
//
// Most layers read one tensor and implement Layer. A layer of several inputs (Keras's merge
// layers: Add, Concatenate ...) implements MergeLayer below instead: the model sees the type
// once, when it builds the graph, and calls the merge entry points, so single-input layers keep
// this one-input interface unchanged.
#include <cstdint>
#include <span>
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

// A merge layer's inputs that do not fit each other: which two (indices in its input list), so
// the model can name both layers and give both shapes.
class MergeShapeError : public ShapeError {
 public:
  MergeShapeError(size_t first_input, size_t second_input, const std::string& what)
      : ShapeError(what), first(first_input), second(second_input) {}
  size_t first, second;
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

// A per-channel map of a tensor's last axis, v -> (v - mean[c]) * scale[c] + shift[c], then a
// relu when `relu` is set: what a batch norm computes in inference (its moving statistics). The
// model folds it into the op that produces the batch norm's input (Layer::forward_folded).
struct ChannelAffine {
  const float* mean = nullptr;
  const float* scale = nullptr;
  const float* shift = nullptr;
  bool relu = false;
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
  // Inference only, for folding a batch norm into the op before it (model_graph.cpp). A layer
  // whose inference forward is a per-channel affine map of its input says so, and gives the map
  // of its current parameters (valid until its next call); asking changes nothing a forward or
  // backward uses.
  virtual bool is_channel_affine() const { return false; }
  virtual ChannelAffine channel_affine() const { throw std::logic_error("not a per-channel map"); }
  // A layer that can apply such a map to its output itself (scaling its weights per output
  // channel) says so; forward_folded is then an inference forward of affine(forward(x)) that
  // never changes the layer's own weights.
  virtual bool can_fold_affine() const { return false; }
  virtual void forward_folded(const float* x, float* y, int64_t batch,
                              const ChannelAffine& affine) {
    (void)x, (void)y, (void)batch, (void)affine;
    throw std::logic_error("this layer folds no per-channel map");
  }
  // Multiply-adds times two for one example's forward pass (for bench's GFLOP/s).
  virtual int64_t forward_flops() const { return 0; }

  // The random generators a training forward draws from (Dropout's masks), so checkpoints can
  // save and restore them and a resumed run draws the same masks. None by default.
  virtual std::vector<Rng*> training_rngs() { return {}; }

  // Which tensors of the forward pass backward() reads. The model's memory planner gives a
  // tensor's memory to another once nothing later reads it, so a layer that keeps what it needs
  // itself (Conv2D's padded input) or needs only its output (relu) frees its input early. The
  // pointers backward() gets for tensors it says it does not read are valid addresses whose
  // contents are undefined. By default a layer reads both.
  struct BackwardReads {
    bool input = true, output = true;
  };
  virtual BackwardReads backward_reads() const { return {}; }
};

// Where a merge layer's backward writes the gradient of one input: dx is nullptr when nobody
// needs it; with accumulate the layer adds to dx (another reader of that tensor already wrote
// its share), otherwise it overwrites dx.
struct MergeGrad {
  float* dx = nullptr;
  bool accumulate = false;
};

// A layer of two or more inputs, all [batch, elements of its shape], in the order the config
// lists them. The single-input build/forward/backward are not used (they throw).
class MergeLayer : public Layer {
 public:
  // Checks the per-example input shapes and returns the output shape. Throws ShapeError.
  virtual Shape build_merge(const std::vector<Shape>& inputs) = 0;
  // xs[k]: [batch, in_k] -> y: [batch, out].
  virtual void forward_merge(std::span<const float* const> xs, float* y, int64_t batch,
                             bool training) = 0;
  // The input gradients of dy = dL/dy, into dxs[k] as MergeGrad says. dxs[j] and dxs[k] may be
  // the same tensor (Add([x, x])): the slots are handled in order.
  virtual void backward_merge(std::span<const float* const> xs, const float* y, const float* dy,
                              std::span<const MergeGrad> dxs, int64_t batch) = 0;

  Shape build(const Shape&) final { throw std::logic_error("a merge layer builds from a list"); }
  void forward(const float*, float*, int64_t, bool) final {
    throw std::logic_error("a merge layer runs through forward_merge");
  }
  void backward(const float*, const float*, const float*, float*, int64_t) final {
    throw std::logic_error("a merge layer runs through backward_merge");
  }
};

}  // namespace mnistnet
