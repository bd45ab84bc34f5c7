// kernel_regularizer / bias_regularizer: the penalty joins the loss train_step reports and
// evaluate returns, and its gradient joins the parameter gradients (finite differences of the
// whole loss, mean cross-entropy + penalty, with respect to every parameter).
#include <catch2/catch.hpp>
#include <cmath>

#include "config/config_loader.h"
#include "gradient_check.h"
#include "model/loss.h"
#include "model/model.h"
#include "optim/optimizer.h"
#include "optim/regularizer.h"
#include "synthetic_idx.h"
#include "train/trainer.h"

using namespace mnistnet;
using mnistnet::testing::random_vector;

namespace {

Model regularized_model() {
  return Model::build(parse_model_spec(nlohmann::json::parse(R"({
    "input_shape": [5, 5, 2], "layers": [
      {"type": "Conv2D", "filters": 3, "kernel_size": 3, "activation": "tanh",
       "kernel_regularizer": {"l1": 0.01, "l2": 0.02}, "bias_regularizer": {"l2": 0.5}},
      {"type": "Flatten"},
      {"type": "Dense", "units": 4, "activation": "softmax",
       "kernel_regularizer": {"l2": 0.03}, "bias_regularizer": {"l1": 0.2}}]})"),
                                       "t.json", "/model"),
                      11);
}

}  // namespace

TEST_CASE("Regularizers reach the parameters from the Dense and Conv2D configs", "[regularizer]") {
  Model m = regularized_model();
  const std::vector<ParamRef> params = m.params();
  REQUIRE(params.size() == 4);
  CHECK(params[0].regularizer.l1 == 0.01);
  CHECK(params[0].regularizer.l2 == 0.02);
  CHECK(params[1].regularizer.l2 == 0.5);
  CHECK(params[2].regularizer.l2 == 0.03);
  CHECK(params[3].regularizer.l1 == 0.2);
  // The penalty is Keras's: l1 * sum|w| + l2 * sum(w^2), per parameter.
  double expected = 0.0;
  const double l1[] = {0.01, 0.0, 0.0, 0.2}, l2[] = {0.02, 0.5, 0.03, 0.0};
  for (size_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < params[i].size(); ++j) {
      const double w = params[i].value[j];
      expected += l1[i] * std::abs(w) + l2[i] * w * w;
    }
  CHECK(regularization_penalty(params) == Approx(expected).epsilon(1e-6));
  CHECK(expected > 0.0);
}

TEST_CASE("The regularized loss's gradient matches finite differences", "[regularizer][gradient]") {
  Model m = regularized_model();
  const int64_t batch = 3;
  std::vector<float> x = random_vector(batch * 50, 3);
  const int32_t labels[] = {1, 3, 0};
  std::vector<uint32_t> indices = {0, 1, 2};
  m.reserve(batch);
  // Biases start at zero, where |b| has its kink: move them off it.
  for (ParamRef& p : m.params())
    if (p.name.ends_with("bias"))
      for (int64_t j = 0; j < p.size(); ++j) p.value[j] = 0.1f * static_cast<float>(j + 1) - 0.15f;

  // Gradients through train_step with a learning rate of 0: the weights stay, the gradients
  // (loss + regularizers) are left in the parameters' grad buffers.
  OptimizerSpec spec;
  spec.type = "sgd";
  Sgd sgd(spec);
  sgd.attach(m.params());
  const Batch b{static_cast<int>(batch), x.data(), labels, indices.data()};
  const LossSums s = train_step(m, sgd, b, 0.0f);

  auto total_loss = [&] {
    const float* logits = m.forward_logits(x.data(), batch, true);
    const double mean =
        softmax_cross_entropy(logits, labels, batch, m.num_outputs(), nullptr).loss / batch;
    return mean + regularization_penalty(m.params());
  };
  // The reported loss sum is the batch's cross-entropy plus the penalty once per example.
  CHECK(s.loss / batch == Approx(total_loss()).epsilon(1e-6));

  const float step = 1e-3f;
  for (ParamRef& p : m.params()) {
    for (int64_t j = 0; j < p.size(); ++j) {
      const float saved = p.value[j];
      p.value[j] = saved + step;
      const double plus = total_loss();
      p.value[j] = saved - step;
      const double minus = total_loss();
      p.value[j] = saved;
      const double numeric = (plus - minus) / (2.0 * step);
      INFO(p.name << "[" << j << "]");
      CHECK(p.grad[j] == Approx(numeric).margin(2e-3));
    }
  }
}

TEST_CASE("evaluate's loss includes the penalty, as Keras's evaluate does", "[regularizer]") {
  Model regularized = regularized_model();
  // The same model without regularizers: the same seed gives the same weights.
  Model plain = Model::build(parse_model_spec(nlohmann::json::parse(R"({
    "input_shape": [5, 5, 2], "layers": [
      {"type": "Conv2D", "filters": 3, "kernel_size": 3, "activation": "tanh"},
      {"type": "Flatten"},
      {"type": "Dense", "units": 4, "activation": "softmax"}]})"),
                                              "t.json", "/model"),
                             11);
  const Dataset data = mnistnet::testing::synthetic_dataset(20, 5, 10, 4);
  const Evaluation with = evaluate(regularized, data, 7, 1.0f / 255);
  const Evaluation without = evaluate(plain, data, 7, 1.0f / 255);
  CHECK(with.accuracy == without.accuracy);
  CHECK(with.loss ==
        Approx(without.loss + regularization_penalty(regularized.params())).epsilon(1e-12));
  CHECK(regularization_penalty(plain.params()) == 0.0);
}
