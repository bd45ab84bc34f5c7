#pragma once
// A model: the config's layers as a graph of operations, run in the config's order (which is a
// topological order: a layer reads only the model's input and earlier layers), with every
// buffer planned once.
//
// The graph: each config layer becomes one or more operations (Dense(activation="relu") is a
// Dense op and an Activation op); its first op reads the tensors its "inputs" name (default:
// the layer before it), the others the op before them. Tensor 0 is the model's input, tensor
// i + 1 the output of op i. A tensor read by several ops gets the sum of their gradients: in
// backward order the first reader writes the gradient and the others add to it (a merge layer
// adds itself; a one-input layer writes into a scratch tensor the model then adds).
//
// Memory, planned once at build (model/memory_plan.h) from the tensors' lifetimes: training
// keeps in one arena each op's output from its forward until the last backward that reads it
// (Layer::backward_reads) and each gradient from its first writer to its producer's backward,
// and places tensors that are never live at the same time in the same memory; reserve(batch)
// only multiplies the plan by the batch size. Inference keeps nothing for backward: it runs
// kInferenceChunk examples at a time through its own planned buffer, so evaluating 10,000
// images at once costs no more memory than a small batch. The input batch is never copied.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/spec.h"
#include "layers/layer.h"
#include "layers/registry.h"

namespace mnistnet {

// Time spent in one operation, summed over the profiled steps (see Model::set_profile).
struct OpProfile {
  std::string group, type;    // the config layer's name and the operation's type
  int64_t forward_flops = 0;  // per example
  double forward_seconds = 0.0, backward_seconds = 0.0;
  double infer_seconds = 0.0;  // inference forward
  bool fused = false;  // runs inside the op before it (a relu after batch norm): no time of its own
  // In inference, runs inside the op before it (Model::set_batch_norm_folding).
  bool folded = false;
};

struct SummaryRow {
  std::string name, type;
  Shape output;
  int64_t params = 0;
  std::vector<std::string> inputs;  // the layers it reads (Keras's "Connected to"); "input"
};

// Activation memory of training at a batch size, in floats.
struct ActivationMemory {
  int64_t planned = 0;  // the arena: the peak of the planned tensors
  int64_t sum = 0;      // every output, gradient and scratch tensor in a buffer of its own
};

class Model {
 public:
  // Builds the graph and shape-checks every layer, plans the memory, then initialises the
  // weights from `seed`. Throws ConfigError naming the layer's JSON pointer when something does
  // not fit (a shape, an unknown or later input, a duplicate name, an unread output ...).
  static Model build(const ModelSpec& spec, uint64_t seed);

  Model(Model&&) noexcept = default;
  Model& operator=(Model&&) noexcept = default;
  ~Model();

  const ModelSpec& spec() const { return spec_; }
  const Shape& input_shape() const { return spec_.input_shape; }
  int64_t input_size() const { return element_count(spec_.input_shape); }
  int64_t num_outputs() const { return element_count(shapes_.back()); }
  // True when the last operation is a softmax, which the loss then fuses (see loss.h).
  bool ends_with_softmax() const { return ends_with_softmax_; }
  // True when every layer reads the one before it (then `summary` has no "Connected to").
  bool is_sequential() const { return sequential_; }
  int64_t max_batch() const { return max_batch_; }

  // Sizes the training arena for batches of up to max_batch. Training forward grows it when
  // needed, so only a larger batch than ever seen allocates.
  void reserve(int64_t max_batch);

  static constexpr int64_t kInferenceChunk = 256;

  // x: [batch, input_size] -> logits [batch, num_outputs]: the input of the final softmax when
  // there is one (the loss fuses it), the output of the last layer otherwise.
  const float* forward_logits(const float* x, int64_t batch, bool training);
  // x -> the model's outputs (probabilities when it ends with softmax), inference mode.
  const float* predict(const float* x, int64_t batch);

  // Where the loss writes d(loss)/d(logits) before backward(): [max_batch, num_outputs].
  float* logits_grad();
  // Back-propagates from logits_grad() through the ops run by the last forward_logits(training).
  void backward(int64_t batch);

  // Runs x through the model in training mode, op by op, and returns the index of the first
  // config layer whose output holds a non-finite value, or -1. For locating a divergence (it
  // moves batch-norm statistics and dropout generators like a training forward).
  int64_t first_non_finite_layer(const float* x, int64_t batch);

  // Every parameter, trainable or not, in a fixed order (the model file's order).
  std::vector<ParamRef> params();
  // Every operation's training random generators (Layer::training_rngs), in operation order:
  // checkpoints save and restore them.
  std::vector<Rng*> training_rngs();
  std::vector<SummaryRow> summary_rows();
  int64_t forward_flops() const;
  ActivationMemory activation_memory(int64_t batch) const;

  // Inference (predict, and forward_logits without training) folds each batch norm into the
  // Conv2D or Dense before it when nothing else reads that op's output: the op runs with its
  // weights scaled per channel (Layer::forward_folded) and the batch norm is not run. The
  // trained weights, training and the model file never change; the result differs from the
  // unfolded ops' by rounding only. On by default; off runs every op as training defines it.
  void set_batch_norm_folding(bool on);
  bool batch_norm_folding() const { return fold_; }

  // While enabled, training forward and backward time every operation into profile(), and
  // inference into its infer_seconds; off by default, so the loops pay one untaken branch per
  // operation.
  void set_profiling(bool on);
  const std::vector<OpProfile>& profile() const { return profile_; }

 private:
  friend class GraphBuilder;
  Model() = default;

  // One operation and what the plan decided for it. Pointer vectors are sized at build and
  // filled per call, so running an op allocates nothing.
  struct Op {
    Layer* layer = nullptr;
    MergeLayer* merge = nullptr;  // the same object when it is a merge layer
    size_t group = 0;
    std::vector<size_t> inputs;  // tensor ids, after aliasing (see storage_)
    bool absorbed = false;       // a relu its producer applies (Layer::absorb_relu): not run
    // Inference with folding: a batch norm its producer applies (Layer::forward_folded), not
    // run; and in that producer, the index of the op whose map it applies (-1: none).
    bool folded = false;
    int64_t applies = -1;
    bool runs_backward = false;    // it has parameters or an input that needs a gradient
    std::vector<bool> input_grad;  // per input: the tensor needs a gradient
    std::vector<bool> accumulate;  // per input: another reader wrote its gradient first
    std::vector<int64_t> scratch;  // per input: training-plan offset of the scratch, or -1
    std::vector<const float*> x;   // per input, filled per call
    std::vector<MergeGrad> dx;     // per input, filled per call (merge layers)
  };

  size_t logits_end() const;  // ops [0, logits_end()) produce the logits
  size_t logits_tensor() const;
  // Inference through ops [0, end): x [batch, input] -> [batch, out(end - 1)].
  const float* infer(const float* x, int64_t batch, size_t end);
  void run_forward(Op& op, size_t i, const std::vector<float*>& act, int64_t batch, bool training);
  void run_backward(Op& op, size_t i, int64_t batch);

  ModelSpec spec_;
  std::vector<LayerGroup> groups_;
  std::vector<std::vector<size_t>> group_inputs_;  // per group: tensor ids its first op reads
  std::vector<size_t> group_output_;               // per group: the tensor its name stands for
  std::vector<Op> ops_;
  std::vector<Shape> shapes_;    // per tensor (0 = input): the per-example shape
  std::vector<size_t> storage_;  // per tensor: the tensor whose memory it is (an absorbed relu's
                                 // output is its producer's)
  std::vector<int64_t> padded_;  // per tensor: elements per example, rounded for alignment
  bool ends_with_softmax_ = false;
  bool sequential_ = true;
  // Offsets per example (multiply by the batch) of training's outputs and gradients (-1:
  // none), and the plan's peak.
  std::vector<int64_t> train_act_at_, train_grad_at_;
  int64_t train_floats_ = 0, train_sum_ = 0;
  // Inference's plan with every op run ([0]) and with the batch norms folded ([1]): per tensor,
  // the tensor whose memory it is (storage_, and a folded batch norm's output is its producer's)
  // and that memory's offset per example (-1: none); the peak.
  struct InferencePlan {
    std::vector<size_t> storage;
    std::vector<int64_t> at;
    int64_t floats = 0;
  };
  InferencePlan infer_plans_[2];
  bool fold_ = true;
  int64_t max_batch_ = 0;
  std::vector<float> arena_;
  std::vector<float*> act_, grad_;  // per tensor, into arena_ (act_[0]: the input batch)
  std::vector<float> infer_arena_, infer_out_;
  std::vector<float*> infer_act_;
  bool profiling_ = false;
  std::vector<OpProfile> profile_;
};

}  // namespace mnistnet
