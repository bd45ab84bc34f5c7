#pragma once
// A sequential model: config layers turned into operations, with every buffer planned once.
//
// Memory, planned once: for training, one arena holds for each operation i its output act[i]
// and the gradient of the loss with respect to it, grad[i], each [max_batch, out_size(i)]; the
// input batch is not copied. Inference keeps nothing for backward: it runs kInferenceChunk
// examples at a time through two ping-pong buffers, so evaluating 10,000 images at once costs
// no more memory than a small batch.
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
  bool fused = false;  // runs inside the op before it (a relu after batch norm): no time of its own
};

struct SummaryRow {
  std::string name, type;
  Shape output;
  int64_t params = 0;
};

class Model {
 public:
  // Builds and shape-checks every layer, then initialises the weights from `seed`.
  // Throws ConfigError naming the layer's JSON pointer when something does not fit.
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
  int64_t max_batch() const { return max_batch_; }

  // Plans training memory for batches of up to max_batch. Training forward grows it when
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

  // Every parameter, trainable or not, in a fixed order (the model file's order).
  std::vector<ParamRef> params();
  // Every operation's training random generators (Layer::training_rngs), in operation order:
  // checkpoints save and restore them.
  std::vector<Rng*> training_rngs();
  std::vector<SummaryRow> summary_rows();
  int64_t forward_flops() const;

  // While enabled, training forward and backward time every operation into profile(); off by
  // default, so the training loop pays one untaken branch per operation.
  void set_profiling(bool on);
  const std::vector<OpProfile>& profile() const { return profile_; }

 private:
  Model() = default;
  size_t logits_end() const;  // ops [0, logits_end()) produce the logits
  // Inference through ops [0, end): x [batch, input] -> [batch, out(end - 1)].
  const float* infer(const float* x, int64_t batch, size_t end);

  ModelSpec spec_;
  std::vector<LayerGroup> groups_;
  std::vector<Layer*> ops_;       // all groups' ops, in order
  std::vector<size_t> op_group_;  // group index of each op
  std::vector<Shape> shapes_;     // per-example output shape of each op
  bool ends_with_softmax_ = false;
  int64_t max_batch_ = 0;
  std::vector<float> arena_;
  std::vector<float*> act_, grad_;              // per op: output and d(loss)/d(output)
  const float* input_ = nullptr;                // the batch of the last forward
  std::vector<float> ping_, pong_, infer_out_;  // inference buffers
  std::vector<bool> absorbed_;   // per op: a relu its predecessor applies (absorb_relu)
  size_t first_needing_dx_ = 0;  // ops before it have no parameters: backward stops there
  bool profiling_ = false;
  std::vector<OpProfile> profile_;
};

}  // namespace mnistnet
