#include "model/model.h"

#include <cctype>
#include <map>

#include "core/errors.h"
#include "core/rng.h"
#include "layers/activation.h"

namespace mnistnet {

Model::~Model() = default;

Model Model::build(const ModelSpec& spec, uint64_t seed) {
  Model m;
  m.spec_ = spec;
  Shape shape = spec.input_shape;
  std::map<std::string, int> type_count;  // Keras names layers dense, dense_1, dense_2 ...
  for (size_t g = 0; g < spec.layers.size(); ++g) {
    const LayerSpec& ls = spec.layers[g];
    LayerGroup group = make_layer(ls, spec.source);
    if (group.name.empty()) {
      std::string base;
      for (char c : group.type) {
        if (std::isupper(static_cast<unsigned char>(c)) && !base.empty() &&
            !std::isupper(static_cast<unsigned char>(base.back())))
          base += '_';
        base += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      const int n = type_count[base]++;
      group.name = n == 0 ? base : base + "_" + std::to_string(n);
    }
    for (auto& op : group.ops) {
      try {
        shape = op->build(shape);
      } catch (const ShapeError& e) {
        throw ConfigError(spec.source + ": " + ls.pointer + ": " + group.type + " \"" +
                          group.name + "\": " + e.what());
      }
      m.ops_.push_back(op.get());
      m.op_group_.push_back(g);
      m.shapes_.push_back(shape);
    }
    m.groups_.push_back(std::move(group));
  }
  if (m.ops_.empty()) throw ConfigError(spec.source + ": /model/layers: the model has no operations");
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
  // Each op draws from its own stream, so adding a layer does not change the others' weights.
  for (size_t i = 0; i < m.ops_.size(); ++i) {
    Rng rng(Rng::derive(seed, i + 1));
    m.ops_[i]->initialize(rng);
  }
  return m;
}

size_t Model::logits_op() const { return ends_with_softmax_ ? ops_.size() - 2 : ops_.size() - 1; }

void Model::reserve(int64_t max_batch) {
  if (max_batch <= max_batch_) return;
  max_batch_ = max_batch;
  size_t total = 0;
  for (const Shape& s : shapes_) total += 2 * static_cast<size_t>(element_count(s) * max_batch);
  arena_.assign(total, 0.0f);
  act_.clear();
  grad_.clear();
  float* p = arena_.data();
  for (const Shape& s : shapes_) {
    const int64_t n = element_count(s) * max_batch;
    act_.push_back(p);
    p += n;
    grad_.push_back(p);
    p += n;
  }
  for (Layer* op : ops_) op->reserve(max_batch);
}

const float* Model::forward_logits(const float* x, int64_t batch, bool training) {
  reserve(batch);
  input_ = x;
  const size_t end = logits_op() + 1;
  // With a final softmax only, logits_op() may be "before the first op": the input is the logits.
  if (ends_with_softmax_ && ops_.size() == 1) return x;
  const float* in = x;
  for (size_t i = 0; i < end; ++i) {
    ops_[i]->forward(in, act_[i], batch, training);
    in = act_[i];
  }
  return in;
}

const float* Model::predict(const float* x, int64_t batch) {
  reserve(batch);
  const float* in = x;
  for (size_t i = 0; i < ops_.size(); ++i) {
    ops_[i]->forward(in, act_[i], batch, /*training=*/false);
    in = act_[i];
  }
  return in;
}

float* Model::logits_grad() {
  reserve(1);
  return ends_with_softmax_ && ops_.size() == 1 ? grad_[0] : grad_[logits_op()];
}

void Model::backward(int64_t batch) {
  if (ends_with_softmax_ && ops_.size() == 1) return;  // nothing below the loss has weights
  for (size_t i = logits_op() + 1; i-- > 0;) {
    const float* x = i == 0 ? input_ : act_[i - 1];
    float* dx = i == 0 ? nullptr : grad_[i - 1];
    ops_[i]->backward(x, act_[i], grad_[i], dx, batch);
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

int64_t Model::forward_flops() const {
  int64_t total = 0;
  for (const Layer* op : ops_) total += op->forward_flops();
  return total;
}

}  // namespace mnistnet
