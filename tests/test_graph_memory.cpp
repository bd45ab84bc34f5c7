// The graph engine's memory and state: the lifetime planner, what layers say their backward
// reads, a ResNet step that allocates nothing, and exact save, load and resume of a graph.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>

#include "allocation_counter.h"
#include "config/config_loader.h"
#include "gradient_check.h"
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/dense.h"
#include "layers/global_pooling.h"
#include "model/memory_plan.h"
#include "model/model_file.h"
#include "resume_fixture.h"

using namespace mnistnet;
using namespace mnistnet::testing;

namespace {

const std::filesystem::path kConfigs = std::filesystem::path(MNISTNET_SOURCE_DIR) / "configs";

bool overlap(const TensorLifetime& a, int64_t at_a, const TensorLifetime& b, int64_t at_b) {
  const bool in_time = a.first <= b.last && b.first <= a.last;
  const bool in_space = at_a < at_b + b.size && at_b < at_a + a.size;
  return in_time && in_space;
}

// A residual block on 8x8 images with every kind of state (batch norm, dropout).
nlohmann::json graph_resume_json(uint64_t seed) {
  nlohmann::json doc = resume_config_json(seed);
  doc["model"]["layers"] = nlohmann::json::parse(R"([
      {"type": "Conv2D", "name": "stem", "filters": 4, "kernel_size": 3, "padding": "same",
       "use_bias": false},
      {"type": "BatchNormalization"},
      {"type": "Activation", "activation": "relu", "name": "stem_relu"},
      {"type": "Conv2D", "filters": 6, "kernel_size": 3, "strides": 2, "padding": "same"},
      {"type": "BatchNormalization", "name": "bn"},
      {"type": "Conv2D", "name": "proj", "inputs": ["stem_relu"], "filters": 6, "kernel_size": 1,
       "strides": 2},
      {"type": "Add", "inputs": ["bn", "proj"]},
      {"type": "Activation", "activation": "relu"},
      {"type": "Flatten", "name": "flat"},
      {"type": "Dropout", "rate": 0.3, "name": "drop"},
      {"type": "GlobalAveragePooling2D", "name": "gap", "inputs": ["stem_relu"]},
      {"type": "Dense", "units": 6, "name": "side"},
      {"type": "Concatenate", "inputs": ["drop", "side"]},
      {"type": "Dense", "units": 10, "activation": "softmax"}])");
  return doc;
}

}  // namespace

TEST_CASE("The planner shares memory only between tensors never live together", "[graph][plan]") {
  // A chain: each tensor is written at step i and read at step i + 1.
  const std::vector<TensorLifetime> chain{{10, 0, 1}, {20, 1, 2}, {30, 2, 3}, {10, 3, 4}};
  const MemoryPlan p = plan_memory(chain, 1);
  CHECK(p.total == 50);  // the peak: 20 + 30 at step 2
  CHECK(p.unplanned == 70);
  // A diamond whose two branches are live at once, next to a long-lived tensor.
  const std::vector<TensorLifetime> mixed{{64, 0, 9}, {32, 1, 3}, {32, 1, 3},
                                          {16, 4, 5}, {48, 6, 7}, {16, 2, 8}};
  for (const std::vector<TensorLifetime>* plan_of : {&chain, &mixed}) {
    const MemoryPlan q = plan_memory(*plan_of, 16);
    for (size_t a = 0; a < plan_of->size(); ++a) {
      CHECK(q.offsets[a] % 16 == 0);
      for (size_t b = a + 1; b < plan_of->size(); ++b)
        CHECK_FALSE(overlap((*plan_of)[a], q.offsets[a], (*plan_of)[b], q.offsets[b]));
    }
  }
  CHECK(plan_memory(mixed, 16).total == 64 + 32 + 32 + 16);  // the peak, at steps 2 and 3
}

TEST_CASE("Layers' backward reads nothing they say they do not read", "[graph][plan]") {
  // Backward with the tensors a layer says it does not read replaced by NaNs must give the same
  // gradients: the planner hands that memory to other tensors.
  auto check = [](Layer& layer, const Shape& in) {
    const Shape out = layer.build(in);
    Rng init(3);
    layer.initialize(init);
    const int64_t batch = 4;
    layer.reserve(batch);
    const auto x = random_vector(element_count(in) * batch, 1);
    const auto dy = random_vector(element_count(out) * batch, 2);
    std::vector<float> y(dy.size()), dx1(x.size()), dx2(x.size());
    layer.forward(x.data(), y.data(), batch, true);
    std::vector<float> x_bad = x, y_bad = y;
    const Layer::BackwardReads reads = layer.backward_reads();
    if (!reads.input) std::fill(x_bad.begin(), x_bad.end(), NAN);
    if (!reads.output) std::fill(y_bad.begin(), y_bad.end(), NAN);
    layer.backward(x.data(), y.data(), dy.data(), dx1.data(), batch);
    std::vector<std::vector<float>> grads;
    for (const ParamRef& p : layer.params())
      if (p.grad) grads.emplace_back(p.grad, p.grad + p.size());
    layer.backward(x_bad.data(), y_bad.data(), dy.data(), dx2.data(), batch);
    INFO(layer.type());
    CHECK(dx1 == dx2);
    size_t k = 0;
    for (const ParamRef& p : layer.params())
      if (p.grad) CHECK(std::vector<float>(p.grad, p.grad + p.size()) == grads[k++]);
  };
  Conv2DOptions o;
  o.filters = 3;
  o.same = true;
  o.stride_h = o.stride_w = 2;
  Conv2D conv(o);
  check(conv, {5, 5, 2});
  BatchNormalization bn, bn_relu;
  bn_relu.absorb_relu();
  check(bn, {3, 3, 4});
  check(bn_relu, {3, 3, 4});
  for (const ActivationKind k : {ActivationKind::relu, ActivationKind::sigmoid,
                                 ActivationKind::tanh, ActivationKind::softmax}) {
    Activation a(k);
    check(a, {6});
  }
  Dense dense(3, true, Initializer::glorot_uniform, Initializer::zeros);
  check(dense, {5});
  GlobalAveragePooling2D gap(false);
  check(gap, {3, 3, 2});
}

TEST_CASE("resnet: planned activation memory is well below the sum of its tensors",
          "[graph][plan][configs]") {
  Config c = load_config((kConfigs / "resnet.json").string());
  Model m = Model::build(c.model, c.seed);
  const ActivationMemory mem = m.activation_memory(128);
  WARN("resnet, batch 128: planned " << static_cast<double>(mem.planned) * 4e-6
                                     << " MB, sum of tensors "
                                     << static_cast<double>(mem.sum) * 4e-6 << " MB");
  CHECK(mem.planned < mem.sum / 2);
}

TEST_CASE("A ResNet training step allocates nothing in steady state", "[graph][steady_state]") {
  Config c = load_config((kConfigs / "resnet.json").string());
  Model model = Model::build(c.model, c.seed);
  const Dataset data = synthetic_dataset(256);
  PipelineSpec spec;
  spec.shuffle_buffer = 100;
  spec.repeat = true;
  spec.batch_size = 16;
  spec.drop_remainder = true;
  spec.prefetch = 2;
  Pipeline pipeline(data, spec);
  auto optimizer = make_optimizer(c.training.optimizer);
  optimizer->attach(model.params());
  for (int i = 0; i < 2; ++i) train_step(model, *optimizer, *pipeline.next(), 0.001f);
  const uint64_t before = allocation_count();
  for (int i = 0; i < 3; ++i) train_step(model, *optimizer, *pipeline.next(), 0.001f);
  CHECK(allocation_count() == before);
  std::vector<float> images(300 * 784, 0.5f);
  model.predict(images.data(), 300);
  const uint64_t before_inference = allocation_count();
  model.predict(images.data(), 300);
  CHECK(allocation_count() == before_inference);
}

TEST_CASE("A graph model saves and loads with identical predictions", "[graph][file]") {
  TempDir dir;
  Config c = parse_config(graph_resume_json(3), "g.json");
  Model m = Model::build(c.model, c.seed);
  const int64_t batch = 5;
  const auto x = random_vector(batch * 64, 4, 0.5f);
  for (int i = 0; i < 3; ++i) m.forward_logits(x.data(), batch, true);  // moves the statistics
  const float* before = m.predict(x.data(), batch);
  const std::vector<float> expected(before, before + batch * 10);
  save_model(dir.path / "g.mnn", m, {"g", "mnist", 256.0, 10000, {}});
  LoadedModel loaded = load_model(dir.path / "g.mnn");
  CHECK_FALSE(loaded.model.is_sequential());
  const float* after = loaded.model.predict(x.data(), batch);
  CHECK(std::equal(expected.begin(), expected.end(), after));
}

TEST_CASE("A graph model's run stopped and resumed ends bit-identical", "[graph][resume]") {
  nlohmann::json doc = graph_resume_json(7);
  doc["training"]["checkpoint"] = {{"save_freq", 4}};
  const Config c = parse_config(doc, "g.json");
  const Dataset train = synthetic_dataset(160, 8, 8), validation = synthetic_dataset(40, 8, 8);
  TempDir reference_dir;
  Model reference = Model::build(c.model, Rng::derive(c.seed, 1));
  const FitResult expected =
      fit(reference, train, validation, c, {}, {.run_dir = reference_dir.path, .run_name = "g"});
  for (const int64_t stop_at : {int64_t{7}, int64_t{20}}) {
    INFO("stopped after step " << stop_at);
    TempDir dir;
    {
      Model model = Model::build(c.model, Rng::derive(c.seed, 1));
      StopAtStep stop(stop_at);
      fit(model, train, validation, c, {&stop},
          {.run_dir = dir.path, .run_name = "g", .stop_request = &stop.flag});
    }
    const Checkpoint checkpoint = read_checkpoint(list_checkpoints(dir.path).back());
    Model model = Model::build(c.model, Rng::derive(c.seed + 9, 1));
    const FitResult resumed = fit(model, train, validation, c, {},
                                  {.run_dir = dir.path, .run_name = "g", .resume = &checkpoint});
    CHECK(weights_of(model) == weights_of(reference));
    CHECK(rows_without_seconds(resumed.history) == rows_without_seconds(expected.history));
  }
}
