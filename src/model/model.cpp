// Running the planned graph: training forward and backward, inference in chunks, and what the
// rest of the program asks of a model. Model::build is in model_graph.cpp.
#include "model/model.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/parallel_for.h"

namespace mnistnet {

Model::~Model() = default;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::chrono::steady_clock::time_point now_if(bool on) {
  return on ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
}

// to += from, over n floats (a second reader's share of a gradient).
void add_into(float* to, const float* from, int64_t n) {
  parallel_for(
      n,
      [&](int64_t begin, int64_t end) {
        float* __restrict a = to + begin;
        const float* __restrict b = from + begin;
        for (int64_t i = 0; i < end - begin; ++i) a[i] += b[i];
      },
      16384);
}

}  // namespace

size_t Model::logits_end() const { return ends_with_softmax_ ? ops_.size() - 1 : ops_.size(); }

size_t Model::logits_tensor() const {
  return ends_with_softmax_ ? ops_.back().inputs[0] : storage_.back();
}

void Model::reserve(int64_t max_batch) {
  if (max_batch <= max_batch_) return;
  max_batch_ = max_batch;
  arena_.assign(static_cast<size_t>(train_floats_ * max_batch), 0.0f);
  const size_t n = shapes_.size();
  act_.assign(n, nullptr);
  grad_.assign(n, nullptr);
  for (size_t t = 0; t < n; ++t) {
    const size_t s = storage_[t];  // an absorbed relu's tensor is its producer's
    if (train_act_at_[s] >= 0) act_[t] = arena_.data() + train_act_at_[s] * max_batch;
    if (train_grad_at_[s] >= 0) grad_[t] = arena_.data() + train_grad_at_[s] * max_batch;
  }
  for (Op& op : ops_) op.layer->reserve(max_batch);
}

void Model::run_forward(Op& op, size_t i, const std::vector<float*>& act, int64_t batch,
                        bool training) {
  const auto start = now_if(profiling_);
  for (size_t k = 0; k < op.inputs.size(); ++k) op.x[k] = act[op.inputs[k]];
  if (op.merge) {
    op.merge->forward_merge(op.x, act[i + 1], batch, training);
  } else if (!training && fold_ && op.applies >= 0) {
    const ChannelAffine affine = ops_[static_cast<size_t>(op.applies)].layer->channel_affine();
    op.layer->forward_folded(op.x[0], act[i + 1], batch, affine);
  } else {
    op.layer->forward(op.x[0], act[i + 1], batch, training);
  }
  if (profiling_)
    (training ? profile_[i].forward_seconds : profile_[i].infer_seconds) += seconds_since(start);
}

const float* Model::forward_logits(const float* x, int64_t batch, bool training) {
  if (!training) return infer(x, batch, logits_end());
  reserve(batch);
  act_[0] = const_cast<float*>(x);  // read only: no op writes its input
  for (size_t i = 0; i < logits_end(); ++i)
    if (!ops_[i].absorbed) run_forward(ops_[i], i, act_, batch, true);
  return act_[logits_tensor()];
}

int64_t Model::first_non_finite_layer(const float* x, int64_t batch) {
  reserve(batch);
  act_[0] = const_cast<float*>(x);
  for (size_t i = 0; i < logits_end(); ++i) {
    if (ops_[i].absorbed) continue;
    run_forward(ops_[i], i, act_, batch, true);
    const float* y = act_[i + 1];
    const int64_t count = element_count(shapes_[i + 1]) * batch;
    if (!std::all_of(y, y + count, [](float v) { return std::isfinite(v); }))
      return static_cast<int64_t>(ops_[i].group);
  }
  return -1;
}

const float* Model::predict(const float* x, int64_t batch) { return infer(x, batch, ops_.size()); }

void Model::set_batch_norm_folding(bool on) {
  if (on == fold_) return;
  fold_ = on;
  infer_act_.clear();  // the other plan's buffers, set up by the next inference
}

const float* Model::infer(const float* x, int64_t batch, size_t end) {
  if (end == 0) return x;
  const InferencePlan& plan = infer_plans_[fold_ ? 1 : 0];
  const int64_t chunk = std::min(batch, kInferenceChunk);
  const size_t out = plan.storage[end];
  const int64_t out_size = element_count(shapes_[end]);
  // Planned for kInferenceChunk examples (however small the first batch), so a later, larger
  // batch never reallocates.
  if (infer_act_.empty()) {
    infer_arena_.assign(static_cast<size_t>(plan.floats * kInferenceChunk), 0.0f);
    infer_act_.assign(shapes_.size(), nullptr);
    for (size_t t = 1; t < shapes_.size(); ++t) {
      const int64_t at = plan.at[plan.storage[t]];
      if (at >= 0) infer_act_[t] = infer_arena_.data() + at * kInferenceChunk;
    }
  }
  if (infer_out_.size() < static_cast<size_t>(batch * out_size))
    infer_out_.resize(static_cast<size_t>(batch * out_size));
  for (int64_t first = 0; first < batch; first += chunk) {
    const int64_t n = std::min(chunk, batch - first);
    infer_act_[0] = const_cast<float*>(x + first * input_size());
    for (size_t i = 0; i < end; ++i)
      if (!ops_[i].absorbed && !(fold_ && ops_[i].folded))
        run_forward(ops_[i], i, infer_act_, n, false);
    std::copy(infer_act_[out], infer_act_[out] + n * out_size,
              infer_out_.data() + first * out_size);
  }
  return infer_out_.data();
}

float* Model::logits_grad() {
  reserve(1);
  return grad_[logits_tensor()];
}

void Model::run_backward(Op& op, size_t i, int64_t batch) {
  const auto start = now_if(profiling_);
  for (size_t k = 0; k < op.inputs.size(); ++k) op.x[k] = act_[op.inputs[k]];
  const float* y = act_[i + 1];
  const float* dy = grad_[i + 1];
  if (op.merge) {
    for (size_t k = 0; k < op.inputs.size(); ++k)
      op.dx[k] = {op.input_grad[k] ? grad_[op.inputs[k]] : nullptr, bool(op.accumulate[k])};
    op.merge->backward_merge(op.x, y, dy, op.dx, batch);
  } else if (!op.input_grad[0]) {
    op.layer->backward(op.x[0], y, dy, nullptr, batch);
  } else if (!op.accumulate[0]) {
    op.layer->backward(op.x[0], y, dy, grad_[op.inputs[0]], batch);
  } else {
    float* scratch = arena_.data() + op.scratch[0] * max_batch_;
    op.layer->backward(op.x[0], y, dy, scratch, batch);
    add_into(grad_[op.inputs[0]], scratch, element_count(shapes_[op.inputs[0]]) * batch);
  }
  if (profiling_) profile_[i].backward_seconds += seconds_since(start);
}

void Model::backward(int64_t batch) {
  for (size_t i = logits_end(); i-- > 0;)
    if (!ops_[i].absorbed && ops_[i].runs_backward) run_backward(ops_[i], i, batch);
}

std::vector<ParamRef> Model::params() {
  std::vector<ParamRef> all;
  for (const Op& op : ops_) {
    for (ParamRef& p : op.layer->params()) {
      p.name = groups_[op.group].name + "/" + p.name;
      all.push_back(std::move(p));
    }
  }
  return all;
}

std::vector<Rng*> Model::training_rngs() {
  std::vector<Rng*> all;
  for (const Op& op : ops_)
    for (Rng* rng : op.layer->training_rngs()) all.push_back(rng);
  return all;
}

std::vector<SummaryRow> Model::summary_rows() {
  std::vector<SummaryRow> rows(groups_.size());
  auto name_of = [&](size_t tensor) -> std::string {
    for (size_t g = 0; g < group_output_.size(); ++g)
      if (group_output_[g] == tensor) return groups_[g].name;
    return "input";
  };
  for (size_t g = 0; g < groups_.size(); ++g) {
    rows[g].name = groups_[g].name;
    rows[g].type = groups_[g].type;
    rows[g].output = shapes_[group_output_[g]];
    for (size_t t : group_inputs_[g]) rows[g].inputs.push_back(name_of(t));
  }
  for (const Op& op : ops_)
    for (const ParamRef& p : op.layer->params()) rows[op.group].params += p.size();
  return rows;
}

void Model::set_profiling(bool on) {
  profiling_ = on;
  profile_.assign(ops_.size(), {});
  for (size_t i = 0; i < ops_.size(); ++i) {
    profile_[i].group = groups_[ops_[i].group].name;
    profile_[i].type = ops_[i].layer->type();
    profile_[i].forward_flops = ops_[i].layer->forward_flops();
    profile_[i].fused = ops_[i].absorbed;
    profile_[i].folded = fold_ && ops_[i].folded;
  }
}

int64_t Model::forward_flops() const {
  int64_t total = 0;
  for (const Op& op : ops_) total += op.layer->forward_flops();
  return total;
}

ActivationMemory Model::activation_memory(int64_t batch) const {
  return {train_floats_ * batch, train_sum_ * batch};
}

}  // namespace mnistnet
