// Update rules against values computed by hand (Keras's formulas), and the lr schedule.
#include <catch2/catch.hpp>
#include <cmath>

#include "optim/optimizer.h"

using namespace mnistnet;

namespace {

struct OneParam {
  float w[2] = {1.0f, -2.0f};
  float g[2] = {0.5f, -0.25f};
  std::vector<ParamRef> refs() { return {{"w", {2}, w, g, true}}; }
};

}  // namespace

TEST_CASE("Plain SGD: w -= lr * g", "[optim]") {
  OneParam p;
  Sgd sgd(0.0, false);
  sgd.attach(p.refs());
  sgd.step(0.1f);
  CHECK(p.w[0] == Approx(1.0 - 0.05));
  CHECK(p.w[1] == Approx(-2.0 + 0.025));
}

TEST_CASE("SGD with momentum and Nesterov follow Keras", "[optim]") {
  OneParam p;
  Sgd momentum(0.9, false);
  momentum.attach(p.refs());
  momentum.step(0.1f);  // v = -0.05; w = 0.95
  momentum.step(0.1f);  // v = 0.9*-0.05 - 0.05 = -0.095; w = 0.855
  CHECK(p.w[0] == Approx(0.855));

  OneParam q;
  Sgd nesterov(0.9, true);
  nesterov.attach(q.refs());
  nesterov.step(0.1f);  // v = -0.05; w += 0.9*-0.05 - 0.05 = -0.095
  CHECK(q.w[0] == Approx(0.905));
}

TEST_CASE("Adam follows Keras, epsilon outside the bias correction", "[optim]") {
  OneParam p;
  Adam adam(0.9, 0.999, 1e-7);
  adam.attach(p.refs());
  adam.step(0.01f);
  // t=1: m = 0.05, v = 0.00025; alpha = 0.01*sqrt(0.001)/0.1; w -= alpha * m / (sqrt(v) + eps)
  const double alpha = 0.01 * std::sqrt(1 - 0.999) / (1 - 0.9);
  const double w1 = 1.0 - alpha * 0.05 / (std::sqrt(0.00025) + 1e-7);
  CHECK(p.w[0] == Approx(w1).epsilon(1e-6));
  adam.step(0.01f);
  const double m = 0.9 * 0.05 + 0.1 * 0.5, v = 0.999 * 0.00025 + 0.001 * 0.25;
  const double alpha2 = 0.01 * std::sqrt(1 - 0.999 * 0.999) / (1 - 0.81);
  CHECK(p.w[0] == Approx(w1 - alpha2 * m / (std::sqrt(v) + 1e-7)).epsilon(1e-6));
  CHECK(adam.iterations() == 2);
}

TEST_CASE("Optimizers leave non-trainable parameters alone", "[optim]") {
  float w = 1.0f, stat = 3.0f, g = 1.0f;
  std::vector<ParamRef> refs{{"w", {1}, &w, &g, true}, {"moving_mean", {1}, &stat, nullptr, false}};
  Adam adam(0.9, 0.999, 1e-7);
  adam.attach(refs);
  adam.step(0.1f);
  CHECK(w < 1.0f);
  CHECK(stat == 3.0f);
}

TEST_CASE("Exponential schedule: lr * decay^epoch + minimum", "[optim][schedule]") {
  OptimizerSpec o;
  o.learning_rate = 0.01;
  ScheduleSpec s;
  CHECK(learning_rate_for_epoch(o, s, 5) == 0.01);
  s.type = "exponential";
  s.decay_rate = 0.6;
  CHECK(learning_rate_for_epoch(o, s, 0) == Approx(0.01));
  CHECK(learning_rate_for_epoch(o, s, 3) == Approx(0.01 * 0.216));
  s.minimum = 1e-4;
  CHECK(learning_rate_for_epoch(o, s, 3) == Approx(0.01 * 0.216 + 1e-4));
}
