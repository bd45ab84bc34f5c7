// Model::build: config layers -> a graph of operations, checked, fused and memory-planned.
#include <algorithm>
#include <cctype>
#include <map>

#include "core/errors.h"
#include "core/rng.h"
#include "layers/activation.h"
#include "model/memory_plan.h"
#include "model/model.h"

namespace mnistnet {
namespace {

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

constexpr const char* kInputName = "input";

// Elements per example rounded up to 16 floats, so every planned tensor starts 64-byte aligned.
int64_t padded_size(const Shape& s) { return (element_count(s) + 15) / 16 * 16; }

}  // namespace

class GraphBuilder {
 public:
  GraphBuilder(Model& m, const ModelSpec& spec) : m_(m), spec_(spec) {}

  void run(uint64_t seed) {
    m_.spec_ = spec_;
    m_.shapes_.push_back(spec_.input_shape);
    m_.storage_.push_back(0);
    index_names();
    for (size_t g = 0; g < spec_.layers.size(); ++g) add_group(g);
    if (m_.ops_.empty())
      throw ConfigError(spec_.source + ": /model/layers: the model has no operations");
    check_every_output_is_read();
    check_output();
    fuse_relus();
    fold_batch_norms();
    decide_gradients();
    plan_training();
    plan_inference(m_.infer_plans_[0], false);
    plan_inference(m_.infer_plans_[1], true);
    // Op i draws its initial weights from stream i + 1 of the seed: a layer added to a config
    // shifts the streams of the ops after it (their weights change), never of those before it.
    for (size_t i = 0; i < m_.ops_.size(); ++i) {
      Rng rng(Rng::derive(seed, i + 1));
      m_.ops_[i].layer->initialize(rng);
    }
  }

 private:
  [[noreturn]] void fail(size_t g, const std::string& where, const std::string& what) const {
    throw ConfigError(spec_.source + ": " + spec_.layers[g].pointer + where + ": " + what);
  }
  std::string describe(size_t g) const {
    return m_.groups_[g].type + " \"" + m_.groups_[g].name + "\"";
  }
  // The name a tensor goes by in messages: its layer's, or "input".
  std::string tensor_name(size_t t) const {
    for (size_t g = 0; g < m_.group_output_.size(); ++g)
      if (m_.group_output_[g] == t) return m_.groups_[g].name;
    return kInputName;
  }

  // The user-given names of all layers, so an input naming a later layer can say so.
  void index_names() {
    for (size_t g = 0; g < spec_.layers.size(); ++g) {
      const nlohmann::json& args = spec_.layers[g].args;
      if (args.is_object() && args.contains("name") && args["name"].is_string())
        later_.emplace(args["name"].get<std::string>(), g);
    }
  }

  void add_group(size_t g) {
    const LayerSpec& ls = spec_.layers[g];
    LayerGroup group = make_layer(ls, spec_.source);
    const bool default_name = group.name.empty();
    if (default_name) {
      const std::string base = keras_snake_case(group.type);
      const int n = type_count_[base]++;
      group.name = n == 0 ? base : base + "_" + std::to_string(n);
    }
    m_.groups_.push_back(std::move(group));
    const LayerGroup& grp = m_.groups_.back();
    if (grp.name == kInputName || names_.count(grp.name)) {
      const std::string owner =
          grp.name == kInputName ? "the model's input" : spec_.layers[names_.at(grp.name)].pointer;
      if (default_name)
        fail(g, "",
             "this layer's default name \"" + grp.name + "\" is already the name of " + owner +
                 ": give it a \"name\"");
      fail(g, "/name",
           "\"" + grp.name + "\" is already the name of " + owner + ": layer names must be unique");
    }

    std::vector<size_t> inputs = resolve_inputs(g);
    auto* merge = dynamic_cast<MergeLayer*>(grp.ops.front().get());
    if (merge && inputs.size() < 2) {
      fail(g, grp.has_inputs ? "/inputs" : "",
           grp.type + " merges two or more layers, got " + std::to_string(inputs.size()) +
               (grp.has_inputs ? "" : "; list them in \"inputs\""));
    }
    if (!merge && inputs.size() != 1)
      fail(g, "/inputs", grp.type + " reads one layer, got " + std::to_string(inputs.size()));
    m_.group_inputs_.push_back(inputs);
    if (inputs.size() != 1 || inputs[0] != (g == 0 ? 0 : m_.group_output_.back()))
      m_.sequential_ = false;

    for (size_t k = 0; k < grp.ops.size(); ++k) {
      Model::Op op;
      op.layer = grp.ops[k].get();
      op.merge = k == 0 ? merge : nullptr;
      op.group = g;
      op.inputs = k == 0 ? inputs : std::vector<size_t>{m_.shapes_.size() - 1};
      Shape shape;
      try {
        if (op.merge) {
          std::vector<Shape> in;
          for (size_t t : op.inputs) in.push_back(m_.shapes_[t]);
          shape = op.merge->build_merge(in);
        } else {
          shape = op.layer->build(m_.shapes_[op.inputs[0]]);
        }
      } catch (const MergeShapeError& e) {
        const size_t a = op.inputs[e.first], b = op.inputs[e.second];
        fail(g, "/inputs",
             describe(g) + ": \"" + tensor_name(a) + "\" " + keras_shape_string(m_.shapes_[a]) +
                 " and \"" + tensor_name(b) + "\" " + keras_shape_string(m_.shapes_[b]) +
                 " do not fit: " + e.what());
      } catch (const ShapeError& e) {
        fail(g, "", describe(g) + ": " + e.what());
      }
      op.x.resize(op.inputs.size());
      op.dx.resize(op.inputs.size());
      m_.ops_.push_back(std::move(op));
      m_.shapes_.push_back(shape);
      m_.storage_.push_back(m_.shapes_.size() - 1);
    }
    m_.group_output_.push_back(m_.shapes_.size() - 1);
    names_.emplace(grp.name, g);
  }

  std::vector<size_t> resolve_inputs(size_t g) const {
    const LayerGroup& grp = m_.groups_[g];
    if (!grp.has_inputs) return {g == 0 ? size_t{0} : m_.group_output_.back()};
    std::vector<size_t> tensors;
    for (size_t k = 0; k < grp.inputs.size(); ++k) {
      const std::string& name = grp.inputs[k];
      const std::string at = "/inputs/" + std::to_string(k);
      if (name == kInputName) {
        tensors.push_back(0);
      } else if (auto it = names_.find(name); it != names_.end()) {
        tensors.push_back(m_.group_output_[it->second]);
      } else if (name == grp.name) {
        fail(g, at, "a layer cannot read itself (\"" + name + "\"): a graph has no cycles");
      } else if (auto later = later_.find(name); later != later_.end()) {
        fail(g, at,
             "\"" + name + "\" is a later layer (" + spec_.layers[later->second].pointer +
                 "): a layer reads only earlier layers, so a graph has no cycles");
      } else {
        fail(g, at,
             "no earlier layer is named \"" + name +
                 "\" (a layer reads the model's \"input\" or a layer before it)");
      }
    }
    return tensors;
  }

  void check_every_output_is_read() const {
    std::vector<bool> read(m_.shapes_.size(), false);
    for (const Model::Op& op : m_.ops_)
      for (size_t t : op.inputs) read[t] = true;
    for (size_t g = 0; g + 1 < m_.groups_.size(); ++g) {
      if (!read[m_.group_output_[g]]) {
        fail(g, "",
             "the output of " + describe(g) +
                 " is read by no layer; only the last layer's output may go unread (name it in "
                 "a later layer's \"inputs\")");
      }
    }
  }

  void check_output() {
    const Shape& out = m_.shapes_.back();
    const LayerSpec& last = spec_.layers.back();
    if (out.size() != 1) {
      throw ConfigError(spec_.source + ": " + last.pointer +
                        ": the model must end with one score per class, a flat output, got " +
                        shape_string(out) + "; add Flatten and Dense layers");
    }
    auto* act = dynamic_cast<Activation*>(m_.ops_.back().layer);
    m_.ends_with_softmax_ = act && act->kind() == ActivationKind::softmax;
    if (act && !m_.ends_with_softmax_ && act->kind() != ActivationKind::linear) {
      throw ConfigError(spec_.source + ": " + last.pointer +
                        ": the last layer must end with a softmax (or linear logits) for "
                        "sparse_categorical_crossentropy");
    }
  }

  // How many ops read each tensor.
  std::vector<int> count_readers() const {
    std::vector<int> readers(m_.shapes_.size(), 0);
    for (const Model::Op& op : m_.ops_)
      for (size_t t : op.inputs) ++readers[t];
    return readers;
  }

  // A relu whose input only it reads, produced by an op that can apply it itself (batch norm,
  // Add), runs inside that op; the relu's output is its producer's memory.
  void fuse_relus() {
    const std::vector<int> readers = count_readers();
    for (size_t i = 0; i < m_.ops_.size(); ++i) {
      Model::Op& op = m_.ops_[i];
      auto* act = dynamic_cast<Activation*>(op.layer);
      if (!act || act->kind() != ActivationKind::relu) continue;
      const size_t in = op.inputs[0];
      if (in == 0 || readers[in] != 1) continue;
      Model::Op& producer = m_.ops_[in - 1];
      if (producer.absorbed || !producer.layer->absorb_relu()) continue;
      op.absorbed = true;
      m_.storage_[i + 1] = in;
    }
    // Readers of an absorbed relu read its producer's tensor.
    for (Model::Op& op : m_.ops_)
      for (size_t& t : op.inputs) t = m_.storage_[t];
  }

  // Inference only, by the same rule as fuse_relus (after it, so a relu the batch norm absorbed
  // goes with it): a per-channel map (batch norm) whose input only it reads, produced by an op
  // that can apply it (Conv2D, Dense), runs inside that op (Model::set_batch_norm_folding).
  void fold_batch_norms() {
    const std::vector<int> readers = count_readers();
    for (size_t i = 0; i < m_.ops_.size(); ++i) {
      Model::Op& op = m_.ops_[i];
      if (op.absorbed || op.merge || !op.layer->is_channel_affine()) continue;
      const size_t in = op.inputs[0];
      if (in == 0 || readers[in] != 1) continue;
      Model::Op& producer = m_.ops_[in - 1];
      if (producer.absorbed || producer.applies >= 0 || !producer.layer->can_fold_affine())
        continue;
      op.folded = true;
      producer.applies = static_cast<int64_t>(i);
    }
  }

  // Which tensors need a gradient (those downstream of a parameter), which ops run backward,
  // and in which order the readers of a tensor contribute to its gradient.
  void decide_gradients() {
    const size_t end = m_.logits_end();
    std::vector<bool> needs_grad(m_.shapes_.size(), false);
    for (size_t i = 0; i < end; ++i) {
      Model::Op& op = m_.ops_[i];
      if (op.absorbed) continue;
      op.input_grad.assign(op.inputs.size(), false);
      op.accumulate.assign(op.inputs.size(), false);
      op.scratch.assign(op.inputs.size(), -1);
      bool any = !op.layer->params().empty();
      for (size_t k = 0; k < op.inputs.size(); ++k) {
        op.input_grad[k] = needs_grad[op.inputs[k]];
        any = any || op.input_grad[k];
      }
      op.runs_backward = any;
      needs_grad[i + 1] = any;
    }
    // Backward runs ops from the last to the first: there the first contribution to a tensor's
    // gradient overwrites it, the later ones add to it.
    std::vector<bool> written(m_.shapes_.size(), false);
    written[m_.logits_tensor()] = true;  // the loss writes the logits' gradient
    for (size_t i = end; i-- > 0;) {
      Model::Op& op = m_.ops_[i];
      if (op.absorbed || !op.runs_backward) continue;
      for (size_t k = 0; k < op.inputs.size(); ++k) {
        if (!op.input_grad[k]) continue;
        op.accumulate[k] = written[op.inputs[k]];
        written[op.inputs[k]] = true;
      }
    }
  }

  // Training: op i's forward at step i, the loss at step T, op i's backward at step 2T - i.
  void plan_training() {
    const size_t end = m_.logits_end();
    const int T = static_cast<int>(m_.ops_.size());
    const auto F = [](size_t i) { return static_cast<int>(i); };
    const auto B = [&](size_t i) { return 2 * T - static_cast<int>(i); };
    const size_t n = m_.shapes_.size();
    for (const Shape& s : m_.shapes_) m_.padded_.push_back(padded_size(s));
    std::vector<TensorLifetime> lives;
    std::vector<int> act_life(n, -1), grad_life(n, -1);  // index into lives
    auto live = [&](std::vector<int>& index, size_t t, int step) {
      if (index[t] < 0) {
        index[t] = static_cast<int>(lives.size());
        lives.push_back({m_.padded_[t], step, step});
      }
      TensorLifetime& l = lives[static_cast<size_t>(index[t])];
      l.first = std::min(l.first, step);
      l.last = std::max(l.last, step);
    };
    for (size_t i = 0; i < end; ++i) {
      const Model::Op& op = m_.ops_[i];
      if (op.absorbed) continue;
      const Layer::BackwardReads reads = op.layer->backward_reads();
      live(act_life, i + 1, F(i));
      if (op.runs_backward) {
        if (reads.output) live(act_life, i + 1, B(i));
        live(grad_life, i + 1, B(i));  // its output's gradient is read as dy
      }
      for (size_t k = 0; k < op.inputs.size(); ++k) {
        const size_t t = op.inputs[k];
        if (t == 0) continue;  // the caller's batch
        live(act_life, t, F(i));
        if (op.runs_backward && reads.input) live(act_life, t, B(i));
        if (op.input_grad[k]) live(grad_life, t, B(i));
      }
    }
    live(act_life, m_.logits_tensor(), T);   // read by the loss
    live(grad_life, m_.logits_tensor(), T);  // written by the loss
    // A one-input layer that adds to a gradient writes its share into a scratch tensor first.
    std::vector<std::pair<size_t, size_t>> scratch;  // (op, input)
    for (size_t i = 0; i < end; ++i) {
      const Model::Op& op = m_.ops_[i];
      if (op.absorbed || op.merge) continue;
      if (!op.input_grad.empty() && op.input_grad[0] && op.accumulate[0]) {
        scratch.emplace_back(i, 0);
        lives.push_back({m_.padded_[op.inputs[0]], B(i), B(i)});
      }
    }
    const MemoryPlan plan = plan_memory(lives);
    m_.train_act_at_.assign(n, -1);
    m_.train_grad_at_.assign(n, -1);
    for (size_t t = 0; t < n; ++t) {
      if (act_life[t] >= 0) m_.train_act_at_[t] = plan.offsets[static_cast<size_t>(act_life[t])];
      if (grad_life[t] >= 0) m_.train_grad_at_[t] = plan.offsets[static_cast<size_t>(grad_life[t])];
    }
    for (size_t s = 0; s < scratch.size(); ++s)
      m_.ops_[scratch[s].first].scratch[scratch[s].second] =
          plan.offsets[lives.size() - scratch.size() + s];
    m_.train_floats_ = plan.total;
    m_.train_sum_ = plan.unplanned;
  }

  // Inference: op i's forward at step i; an output lives until its last reader has run, the
  // model's output until the end. With `fold`, a folded batch norm's output is its producer's
  // memory (and so is that of a relu it absorbed).
  void plan_inference(Model::InferencePlan& out, bool fold) {
    const size_t n = m_.shapes_.size();
    out.storage = m_.storage_;
    if (fold) {
      for (size_t i = 0; i < m_.ops_.size(); ++i)
        if (m_.ops_[i].folded) out.storage[i + 1] = m_.ops_[i].inputs[0];
      for (size_t& s : out.storage) s = out.storage[s];  // an absorbed relu's, after its producer
    }
    std::vector<TensorLifetime> lives;
    std::vector<int> life(n, -1);
    for (size_t i = 0; i < m_.ops_.size(); ++i) {
      const Model::Op& op = m_.ops_[i];
      if (op.absorbed || (fold && op.folded)) continue;
      life[i + 1] = static_cast<int>(lives.size());
      lives.push_back({m_.padded_[i + 1], static_cast<int>(i), static_cast<int>(i)});
      for (size_t t : op.inputs)
        if (t != 0) lives[static_cast<size_t>(life[out.storage[t]])].last = static_cast<int>(i);
    }
    const MemoryPlan plan = plan_memory(lives);
    out.at.assign(n, -1);
    for (size_t t = 0; t < n; ++t)
      if (life[t] >= 0) out.at[t] = plan.offsets[static_cast<size_t>(life[t])];
    out.floats = plan.total;
  }

  Model& m_;
  const ModelSpec& spec_;
  std::map<std::string, int> type_count_;  // Keras names layers dense, dense_1, dense_2 ...
  std::map<std::string, size_t> names_;    // earlier layers' names -> group
  std::multimap<std::string, size_t> later_;
};

Model Model::build(const ModelSpec& spec, uint64_t seed) {
  Model m;
  GraphBuilder(m, spec).run(seed);
  return m;
}

}  // namespace mnistnet
