// Inference folds a batch norm into the Conv2D or Dense before it (Model::set_batch_norm_folding):
// the probabilities agree with the unfolded ops' to rounding, the arg-max everywhere, and
// neither the weights nor training change.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "config/config_loader.h"
#include "gradient_check.h"
#include "layers/batch_norm.h"
#include "layers/channel_affine.h"
#include "model/loss.h"
#include "model/model.h"
#include "model/weights.h"
#include "optim/optimizer.h"

using namespace mnistnet;
using mnistnet::testing::random_vector;

namespace {

Config shipped(const std::string& name) {
  return load_config(
      (std::filesystem::path(MNISTNET_SOURCE_DIR) / "configs" / (name + ".json")).string());
}

ModelSpec spec_of(const std::string& json) {
  return parse_model_spec(nlohmann::json::parse(json), "test.json", "/model");
}

// A few Adam steps on random labels: the weights and the batch-norm moving statistics move off
// their initial values (with the initial 0 and 1 folding would be nearly a no-op).
void train_steps(Model& m, int steps, uint64_t seed) {
  const int64_t batch = 16;
  m.reserve(batch);
  OptimizerSpec spec;
  spec.type = "adam";
  spec.learning_rate = 0.01;
  auto optimizer = make_optimizer(spec);
  optimizer->attach(m.params());
  for (int s = 0; s < steps; ++s) {
    const auto x = random_vector(batch * m.input_size(), seed + static_cast<uint64_t>(s), 0.5f);
    std::vector<int32_t> labels(batch);
    for (int64_t i = 0; i < batch; ++i)
      labels[static_cast<size_t>(i)] = static_cast<int32_t>((i * 7 + s) % m.num_outputs());
    const float* logits = m.forward_logits(x.data(), batch, true);
    softmax_cross_entropy(logits, labels.data(), batch, m.num_outputs(), m.logits_grad());
    m.backward(batch);
    optimizer->step(static_cast<float>(spec.learning_rate));
  }
}

std::vector<float> predictions(Model& m, const std::vector<float>& x, int64_t batch) {
  const float* y = m.predict(x.data(), batch);
  return {y, y + batch * m.num_outputs()};
}

int64_t argmax(const float* row, int64_t n) { return std::max_element(row, row + n) - row; }

size_t folded_count(Model& m) {
  m.set_profiling(true);
  const auto& p = m.profile();
  const auto n = static_cast<size_t>(std::count_if(p.begin(), p.end(), [](const OpProfile& o) {
    return o.folded && o.type == std::string("BatchNormalization");
  }));
  m.set_profiling(false);
  return n;
}

// Folded against unfolded predictions of the same trained model, at a batch of several
// inference chunks and at batch 1.
void check_folding_agrees(Model& m, size_t expect_folded) {
  CHECK(folded_count(m) == expect_folded);
  const int64_t batch = 300;  // more than Model::kInferenceChunk
  const auto x = random_vector(batch * m.input_size(), 77, 0.5f);
  REQUIRE(m.batch_norm_folding());
  const std::vector<float> folded = predictions(m, x, batch);
  m.set_batch_norm_folding(false);
  const std::vector<float> plain = predictions(m, x, batch);
  m.set_batch_norm_folding(true);
  const std::vector<float> again = predictions(m, x, batch);
  CHECK(again == folded);  // switching back rebuilds the same plan
  const int64_t classes = m.num_outputs();
  double worst = 0.0;
  int64_t disagree = 0;
  for (int64_t i = 0; i < batch; ++i) {
    const float* a = folded.data() + i * classes;
    const float* b = plain.data() + i * classes;
    for (int64_t c = 0; c < classes; ++c) worst = std::max(worst, double{std::fabs(a[c] - b[c])});
    disagree += argmax(a, classes) != argmax(b, classes);
  }
  CHECK(worst <= 1e-5);
  CHECK(disagree == 0);
  // Batch 1 runs the same folded ops on one image.
  const std::vector<float> one = predictions(m, x, 1);
  for (int64_t c = 0; c < classes; ++c)
    CHECK(std::fabs(one[static_cast<size_t>(c)] - folded[static_cast<size_t>(c)]) <= 1e-6);
}

}  // namespace

TEST_CASE("conv_bn folds its four batch norms and predicts as unfolded", "[folding]") {
  Config c = shipped("conv_bn");
  Model m = Model::build(c.model, c.seed);
  train_steps(m, 4, 1);
  check_folding_agrees(m, 4);  // three after a Conv2D, one after the Dense
}

TEST_CASE("resnet folds every batch norm and predicts as unfolded", "[folding]") {
  Config c = shipped("resnet");
  Model m = Model::build(c.model, c.seed);
  train_steps(m, 2, 2);
  check_folding_agrees(m, 15);  // every conv's, the projections' included
}

TEST_CASE("Dense + batch norm with bias, scale and no relu folds and predicts as unfolded",
          "[folding]") {
  Model m = Model::build(spec_of(R"({"input_shape": [12], "layers": [
      {"type": "Dense", "units": 9},
      {"type": "BatchNormalization"},
      {"type": "Activation", "activation": "tanh"},
      {"type": "Dense", "units": 7, "use_bias": false},
      {"type": "BatchNormalization", "center": false},
      {"type": "Activation", "activation": "relu"},
      {"type": "Dense", "units": 3, "activation": "softmax"}]})"),
                         5);
  train_steps(m, 5, 3);
  check_folding_agrees(m, 2);
}

TEST_CASE("A conv with bias, a strided conv and a batch norm without relu fold", "[folding]") {
  Model m = Model::build(spec_of(R"({"input_shape": [8, 8, 2], "layers": [
      {"type": "Conv2D", "filters": 5, "kernel_size": 3, "padding": "same"},
      {"type": "BatchNormalization"},
      {"type": "Conv2D", "filters": 17, "kernel_size": 2, "strides": 2},
      {"type": "BatchNormalization", "scale": false},
      {"type": "Activation", "activation": "relu"},
      {"type": "Flatten"},
      {"type": "Dense", "units": 4, "activation": "softmax"}]})"),
                         6);
  train_steps(m, 5, 4);
  check_folding_agrees(m, 2);
}

TEST_CASE("A batch norm is not folded when its input has another reader or a relu between",
          "[folding]") {
  Model m = Model::build(spec_of(R"({"input_shape": [6, 6, 3], "layers": [
      {"type": "Conv2D", "name": "c1", "filters": 3, "kernel_size": 3, "padding": "same"},
      {"type": "BatchNormalization", "name": "bn1"},
      {"type": "Add", "inputs": ["bn1", "c1"]},
      {"type": "Conv2D", "filters": 4, "kernel_size": 3, "activation": "relu"},
      {"type": "BatchNormalization"},
      {"type": "Flatten"},
      {"type": "Dense", "units": 3, "activation": "softmax"}]})"),
                         7);
  train_steps(m, 3, 5);
  check_folding_agrees(m, 0);
}

TEST_CASE("Folded inference changes neither the weights nor training", "[folding]") {
  Config c = shipped("conv_bn");
  Model a = Model::build(c.model, c.seed);
  Model b = Model::build(c.model, c.seed);
  const auto x = random_vector(50 * 784, 9, 0.5f);
  train_steps(a, 2, 6);
  train_steps(b, 2, 6);
  a.predict(x.data(), 50);  // folded inference between the training steps of one of them
  b.set_batch_norm_folding(false);
  b.predict(x.data(), 50);
  train_steps(a, 2, 8);
  train_steps(b, 2, 8);
  const std::vector<ParamRef> pa = a.params(), pb = b.params();
  REQUIRE(pa.size() == pb.size());
  for (size_t p = 0; p < pa.size(); ++p) {
    INFO(pa[p].name);
    CHECK(std::equal(pa[p].value, pa[p].value + pa[p].size(), pb[p].value));
  }
}

TEST_CASE("Inference repacks its kernels whenever the weights changed since the last call",
          "[folding]") {
  // Conv2D keeps its packed (and folded) kernels between inference calls while the weights stay
  // bit-identical; every way of changing them must show in the next prediction.
  for (const char* name : {"conv", "conv_bn"}) {
    INFO(name);
    Config c = shipped(name);
    Model m = Model::build(c.model, c.seed);
    const auto x = random_vector(3 * 784, 5, 0.5f);
    const auto fresh_with_weights_of = [&](Model& from) {
      Model fresh = Model::build(c.model, c.seed + 1);
      copy_weights(from, fresh, "test");
      return predictions(fresh, x, 3);
    };
    predictions(m, x, 3);
    train_steps(m, 2, 3);  // the optimizer
    CHECK(predictions(m, x, 3) == fresh_with_weights_of(m));
    for (ParamRef& p : m.params())  // a direct write, as a weight load or the EMA swap does
      for (int64_t i = 0; i < p.size(); i += 3) p.value[i] *= 0.5f;
    CHECK(predictions(m, x, 3) == fresh_with_weights_of(m));
    CHECK(predictions(m, x, 3) == predictions(m, x, 3));  // and unchanged ones reuse the pack
  }
}

TEST_CASE("A batch norm's folded map is its inference forward and leaves its training state",
          "[folding]") {
  // Two identical batch norms with statistics off 0 and 1; only `asked` gives its map between
  // a training forward and the backward that reads that forward's batch statistics.
  const int64_t batch = 5, channels = 6;
  BatchNormalization asked, plain;
  for (BatchNormalization* bn : {&asked, &plain}) {
    bn->build({channels});
    uint64_t seed = 40;
    for (ParamRef& p : bn->params()) {
      const auto v = random_vector(p.size(), ++seed, 0.5f);
      for (int64_t i = 0; i < p.size(); ++i) p.value[i] = v[static_cast<size_t>(i)] + 1.0f;
    }
  }
  const auto x = random_vector(batch * channels, 9, 3.0f);
  const auto dy = random_vector(batch * channels, 10, 1.0f);
  const auto n = static_cast<size_t>(batch * channels);
  std::vector<float> y_asked(n), y_plain(n), dx_asked(n), dx_plain(n);
  asked.forward(x.data(), y_asked.data(), batch, true);
  plain.forward(x.data(), y_plain.data(), batch, true);
  asked.channel_affine();
  asked.backward(x.data(), y_asked.data(), dy.data(), dx_asked.data(), batch);
  plain.backward(x.data(), y_plain.data(), dy.data(), dx_plain.data(), batch);
  CHECK(dx_asked == dx_plain);

  std::vector<float> inferred(n), mapped(n);
  asked.forward(x.data(), inferred.data(), batch, false);
  apply_channel_affine(x.data(), mapped.data(), batch, channels, asked.channel_affine());
  CHECK(mapped == inferred);
}
