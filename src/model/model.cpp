#include "model/model.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>

#include "core/errors.h"
#include "core/rng.h"
#include "layers/activation.h"

namespace mnistnet {

Model::~Model() = default;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Keras's default layer names: "Dense" -> "dense", "MaxPooling2D" -> "max_pooling2d",
// "BatchNormalization" -> "batch_normalization", "Conv2D" -> "conv2d".
std::string keras_snake_case(const std::string& type) {
  std::string out;
  for (size_t i = 0; i < type.size(); ++i) {
    const auto c = static_cast<unsigned char>(type[i]);
    const bool upper = std::isupper(c) != 0;
    const bool starts_word =
        i > 0 && upper &&
        ((i + 1 < type.size() && std::islower(static_cast<unsigned char>(type[i + 1]))) ||
         std::islower(static_cast<unsigned char>(type[i - 1])));
    if (starts_word) out += '_';
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

}  // namespace

Model Model::build(const ModelSpec& spec, uint64_t seed) {
  Model m;
  m.spec_ = spec;
  Shape shape = spec.input_shape;
  std::map<std::string, int> type_count;  // Keras names layers dense, dense_1, dense_2 ...
  for (size_t g = 0; g < spec.layers.size(); ++g) {
    const LayerSpec& ls = spec.layers[g];
    LayerGroup group = make_layer(ls, spec.source);
    if (group.name.empty()) {
      const std::string base = keras_snake_case(group.type);
      const int n = type_count[base]++;
      group.name = n == 0 ? base : base + "_" + std::to_string(n);
    }
    for (auto& op : group.ops) {
      try {
        shape = op->build(shape);
      } catch (const ShapeError& e) {
        throw ConfigError(spec.source + ": " + ls.pointer + ": " + group.type + " \"" + group.name +
                          "\": " + e.what());
      }
      m.ops_.push_back(op.get());
      m.op_group_.push_back(g);
      m.shapes_.push_back(shape);
    }
    m.groups_.push_back(std::move(group));
  }
  if (m.ops_.empty())
    throw ConfigError(spec.source + ": /model/layers: the model has no operations");
  if (shape.size() != 1) {
    throw ConfigError(spec.source + ": " + spec.layers.back().pointer +
                      ": the model must end with one score per class, a flat output, got " +
                      shape_string(shape) + "; add Flatten and Dense layers");
  }
  auto* last = dynamic_cast<Activation*>(m.ops_.back());
  m.ends_with_softmax_ = last && last->kind() == ActivationKind::softmax;
  if (last && !m.ends_with_softmax_ && last->kind() != ActivationKind::linear) {
    throw ConfigError(spec.source + ": " + spec.layers.back().pointer +
                      ": the last layer must end with a softmax (or linear logits) for "
                      "sparse_categorical_crossentropy");
  }
  // A relu right after an op that can apply it itself (batch norm) runs inside that op.
  m.absorbed_.assign(m.ops_.size(), false);
  for (size_t i = 1; i < m.ops_.size(); ++i) {
    auto* act = dynamic_cast<Activation*>(m.ops_[i]);
    const bool relu = act && act->kind() == ActivationKind::relu;
    if (relu && !m.absorbed_[i - 1] && m.ops_[i - 1]->absorb_relu()) m.absorbed_[i] = true;
  }
  // Operations before the first one with parameters need no input gradient: backward skips
  // them, and the first parameterised one does not compute its dx (for conv_bn, no input gradient
  // of the first convolution).
  m.first_needing_dx_ = m.ops_.size();
  for (size_t i = 0; i < m.ops_.size(); ++i) {
    if (!m.ops_[i]->params().empty()) {
      m.first_needing_dx_ = i;
      break;
    }
  }
  // Each op draws from its own stream, so adding a layer does not change the others' weights.
  for (size_t i = 0; i < m.ops_.size(); ++i) {
    Rng rng(Rng::derive(seed, i + 1));
    m.ops_[i]->initialize(rng);
  }
  return m;
}

size_t Model::logits_end() const { return ends_with_softmax_ ? ops_.size() - 1 : ops_.size(); }

void Model::reserve(int64_t max_batch) {
  if (max_batch <= max_batch_) return;
  max_batch_ = max_batch;
  size_t total = 0;
  for (size_t i = 0; i < ops_.size(); ++i)
    if (!absorbed_[i]) total += 2 * static_cast<size_t>(element_count(shapes_[i]) * max_batch);
  arena_.assign(total, 0.0f);
  act_.clear();
  grad_.clear();
  float* p = arena_.data();
  for (size_t i = 0; i < ops_.size(); ++i) {
    if (absorbed_[i]) {  // an absorbed relu's output and gradient are its absorber's
      act_.push_back(act_.back());
      grad_.push_back(grad_.back());
      continue;
    }
    const int64_t n = element_count(shapes_[i]) * max_batch;
    act_.push_back(p);
    p += n;
    grad_.push_back(p);
    p += n;
  }
  for (Layer* op : ops_) op->reserve(max_batch);
}

const float* Model::forward_logits(const float* x, int64_t batch, bool training) {
  if (!training) return infer(x, batch, logits_end());
  reserve(batch);
  input_ = x;
  const float* in = x;
  for (size_t i = 0; i < logits_end(); ++i) {
    if (absorbed_[i]) continue;
    const auto start =
        profiling_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    ops_[i]->forward(in, act_[i], batch, true);
    if (profiling_) profile_[i].forward_seconds += seconds_since(start);
    in = act_[i];
  }
  return in;
}

const float* Model::predict(const float* x, int64_t batch) { return infer(x, batch, ops_.size()); }

const float* Model::infer(const float* x, int64_t batch, size_t end) {
  if (end == 0) return x;
  int64_t widest = 0;
  for (size_t i = 0; i < end; ++i) widest = std::max(widest, element_count(shapes_[i]));
  const int64_t chunk = std::min(batch, kInferenceChunk);
  const int64_t out_size = element_count(shapes_[end - 1]);
  auto grow = [](std::vector<float>& v, int64_t n) {
    if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
  };
  grow(ping_, chunk * widest);
  grow(pong_, chunk * widest);
  grow(infer_out_, batch * out_size);
  for (int64_t first = 0; first < batch; first += chunk) {
    const int64_t n = std::min(chunk, batch - first);
    const float* in = x + first * input_size();
    bool to_ping = true;
    for (size_t i = 0; i < end; ++i) {
      if (absorbed_[i]) continue;
      float* out = (to_ping ? ping_ : pong_).data();
      ops_[i]->forward(in, out, n, false);
      in = out;
      to_ping = !to_ping;
    }
    std::copy(in, in + n * out_size, infer_out_.data() + first * out_size);
  }
  return infer_out_.data();
}

float* Model::logits_grad() {
  reserve(1);
  return logits_end() == 0 ? grad_[0] : grad_[logits_end() - 1];
}

void Model::backward(int64_t batch) {
  for (size_t i = logits_end(); i-- > first_needing_dx_;) {
    if (absorbed_[i]) continue;
    const float* x = i == 0 ? input_ : act_[i - 1];
    float* dx = i == first_needing_dx_ ? nullptr : grad_[i - 1];
    const auto start =
        profiling_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    ops_[i]->backward(x, act_[i], grad_[i], dx, batch);
    if (profiling_) profile_[i].backward_seconds += seconds_since(start);
  }
}

std::vector<ParamRef> Model::params() {
  std::vector<ParamRef> all;
  for (size_t i = 0; i < ops_.size(); ++i) {
    for (ParamRef& p : ops_[i]->params()) {
      p.name = groups_[op_group_[i]].name + "/" + p.name;
      all.push_back(std::move(p));
    }
  }
  return all;
}

std::vector<Rng*> Model::training_rngs() {
  std::vector<Rng*> all;
  for (Layer* op : ops_)
    for (Rng* rng : op->training_rngs()) all.push_back(rng);
  return all;
}

std::vector<SummaryRow> Model::summary_rows() {
  std::vector<SummaryRow> rows(groups_.size());
  for (size_t g = 0; g < groups_.size(); ++g) {
    rows[g].name = groups_[g].name;
    rows[g].type = groups_[g].type;
  }
  for (size_t i = 0; i < ops_.size(); ++i) {
    SummaryRow& row = rows[op_group_[i]];
    row.output = shapes_[i];
    for (const ParamRef& p : ops_[i]->params()) row.params += p.size();
  }
  return rows;
}

void Model::set_profiling(bool on) {
  profiling_ = on;
  profile_.assign(ops_.size(), {});
  for (size_t i = 0; i < ops_.size(); ++i) {
    profile_[i].group = groups_[op_group_[i]].name;
    profile_[i].type = ops_[i]->type();
    profile_[i].forward_flops = ops_[i]->forward_flops();
    profile_[i].fused = absorbed_[i];
  }
}

int64_t Model::forward_flops() const {
  int64_t total = 0;
  for (const Layer* op : ops_) total += op->forward_flops();
  return total;
}

}  // namespace mnistnet
