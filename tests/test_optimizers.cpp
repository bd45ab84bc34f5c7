// Update rules against Keras 3's formulas: one step by hand, then several steps on small
// tensors against a double-precision transcription of the keras/src/optimizers code.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>

#include "core/parallel_for.h"
#include "optim/optimizer.h"

using namespace mnistnet;

namespace {

struct OneParam {
  float w[2] = {1.0f, -2.0f};
  float g[2] = {0.5f, -0.25f};
  std::vector<ParamRef> refs() { return {{"w", {2}, w, g, true}}; }
};

OptimizerSpec spec_of(const std::string& type) {
  OptimizerSpec s;
  s.type = type;
  if (type == "adamw") s.weight_decay = 0.004;
  return s;
}

// Two parameters of 3 and 2 values; the gradient of step k is a fixed function of k, so every
// step sees a different one (clipping rewrites the gradients in place: set them each step).
struct TwoParams {
  std::vector<float> a = {0.5f, -1.5f, 2.0f}, b = {-0.25f, 1.0f};
  std::vector<float> ga = std::vector<float>(3), gb = std::vector<float>(2);
  std::vector<ParamRef> refs() {
    return {{"a", {3}, a.data(), ga.data(), true}, {"b", {2}, b.data(), gb.data(), true}};
  }
  static double gradient(int k, size_t i) {
    return 0.8 * std::sin(1.7 * k + 0.9 * static_cast<double>(i)) + 0.1;
  }
  void set_gradients(int k) {
    for (size_t i = 0; i < 3; ++i) ga[i] = static_cast<float>(gradient(k, i));
    for (size_t i = 0; i < 2; ++i) gb[i] = static_cast<float>(gradient(k, 3 + i));
  }
  std::vector<double> values() const { return {a[0], a[1], a[2], b[0], b[1]}; }
};

// A reference update: given w, g (all five values, params a then b) and the 1-based step t.
using Reference = std::function<void(std::vector<double>& w, const std::vector<double>& g, int t)>;

// Runs `spec` and `reference` side by side for `steps` steps at learning rate lr.
void check_against_reference(const OptimizerSpec& spec, const Reference& reference, float lr,
                             int steps = 6) {
  TwoParams p;
  auto optimizer = make_optimizer(spec);
  optimizer->attach(p.refs());
  std::vector<double> w = p.values();
  for (int k = 0; k < steps; ++k) {
    p.set_gradients(k);
    std::vector<double> g(5);
    for (size_t i = 0; i < 5; ++i)
      g[i] = static_cast<double>(static_cast<float>(TwoParams::gradient(k, i)));
    optimizer->step(lr);
    reference(w, g, k + 1);
    const std::vector<double> got = p.values();
    for (size_t i = 0; i < 5; ++i) {
      INFO(spec.type << ", step " << k + 1 << ", value " << i);
      CHECK(got[i] == Approx(w[i]).epsilon(2e-5).margin(1e-6));
    }
  }
  CHECK(optimizer->iterations() == steps);
}

}  // namespace

TEST_CASE("Plain SGD: w -= lr * g", "[optim]") {
  OneParam p;
  Sgd sgd(spec_of("sgd"));
  sgd.attach(p.refs());
  sgd.step(0.1f);
  CHECK(p.w[0] == Approx(1.0 - 0.05));
  CHECK(p.w[1] == Approx(-2.0 + 0.025));
}

TEST_CASE("SGD with momentum and Nesterov follow Keras", "[optim]") {
  OneParam p;
  OptimizerSpec s = spec_of("sgd");
  s.momentum = 0.9;
  Sgd momentum(s);
  momentum.attach(p.refs());
  momentum.step(0.1f);  // v = -0.05; w = 0.95
  momentum.step(0.1f);  // v = 0.9*-0.05 - 0.05 = -0.095; w = 0.855
  CHECK(p.w[0] == Approx(0.855));

  OneParam q;
  s.nesterov = true;
  Sgd nesterov(s);
  nesterov.attach(q.refs());
  nesterov.step(0.1f);  // v = -0.05; w += 0.9*-0.05 - 0.05 = -0.095
  CHECK(q.w[0] == Approx(0.905));
}

TEST_CASE("Adam follows Keras, epsilon outside the bias correction", "[optim]") {
  OneParam p;
  Adam adam(spec_of("adam"));
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
  CHECK(std::string(adam.name()) == "adam");
}

TEST_CASE("AdamW decays the weights before Adam's update: w -= w * weight_decay * lr", "[optim]") {
  OneParam p;
  Adam adamw(spec_of("adamw"));
  CHECK(std::string(adamw.name()) == "adamw");
  adamw.attach(p.refs());
  adamw.step(0.01f);
  const double decayed = 1.0 - 1.0 * 0.004 * 0.01;
  const double alpha = 0.01 * std::sqrt(1 - 0.999) / (1 - 0.9);
  CHECK(p.w[0] == Approx(decayed - alpha * 0.05 / (std::sqrt(0.00025) + 1e-7)).epsilon(1e-6));
}

TEST_CASE("RMSprop's one step from Keras's docstring: 10 -> 9.683772", "[optim]") {
  // RMSprop(learning_rate=0.1), loss = w^2 / 2, so the gradient is w itself.
  float w = 10.0f, g = 10.0f;
  RmsProp rmsprop(spec_of("rmsprop"));
  rmsprop.attach({{"w", {1}, &w, &g, true}});
  rmsprop.step(0.1f);
  CHECK(w == Approx(9.683772).epsilon(1e-6));
}

TEST_CASE("SGD over several steps matches Keras's formulas, with weight_decay", "[optim]") {
  for (const double momentum : {0.0, 0.9})
    for (const bool nesterov : {false, true})
      for (const double wd : {0.0, 0.01}) {
        OptimizerSpec s = spec_of("sgd");
        s.momentum = momentum, s.nesterov = nesterov, s.weight_decay = wd;
        std::vector<double> v(5, 0.0);
        const double lr = 0.05;
        INFO("momentum " << momentum << " nesterov " << nesterov << " weight_decay " << wd);
        check_against_reference(
            s,
            [&](std::vector<double>& w, const std::vector<double>& g, int) {
              for (size_t i = 0; i < 5; ++i) {
                w[i] -= w[i] * wd * lr;
                if (momentum == 0.0) {
                  w[i] -= lr * g[i];
                  continue;
                }
                v[i] = momentum * v[i] - lr * g[i];
                w[i] += nesterov ? momentum * v[i] - lr * g[i] : v[i];
              }
            },
            static_cast<float>(lr));
      }
}

TEST_CASE("Adam, AdamW and amsgrad over several steps match Keras's formulas", "[optim]") {
  for (const std::string type : {"adam", "adamw"})
    for (const bool amsgrad : {false, true}) {
      OptimizerSpec s = spec_of(type);
      s.amsgrad = amsgrad, s.beta_1 = 0.8, s.beta_2 = 0.95, s.epsilon = 1e-3;
      std::vector<double> m(5, 0.0), v(5, 0.0), v_hat(5, 0.0);
      const double lr = 0.02, wd = s.weight_decay;
      INFO(type << " amsgrad " << amsgrad);
      check_against_reference(
          s,
          [&](std::vector<double>& w, const std::vector<double>& g, int t) {
            const double alpha = lr * std::sqrt(1 - std::pow(0.95, t)) / (1 - std::pow(0.8, t));
            for (size_t i = 0; i < 5; ++i) {
              w[i] -= w[i] * wd * lr;
              m[i] += (g[i] - m[i]) * (1 - 0.8);
              v[i] += (g[i] * g[i] - v[i]) * (1 - 0.95);
              v_hat[i] = std::max(v_hat[i], v[i]);
              w[i] -= m[i] * alpha / (std::sqrt(amsgrad ? v_hat[i] : v[i]) + 1e-3);
            }
          },
          static_cast<float>(lr));
    }
}

TEST_CASE("RMSprop, centered and with momentum, over several steps matches Keras's formulas",
          "[optim]") {
  for (const bool centered : {false, true})
    for (const double momentum : {0.0, 0.7})
      for (const double wd : {0.0, 0.05}) {
        OptimizerSpec s = spec_of("rmsprop");
        s.centered = centered, s.momentum = momentum, s.rho = 0.8, s.epsilon = 1e-4;
        s.weight_decay = wd;
        std::vector<double> velocity(5, 0.0), mom(5, 0.0), average(5, 0.0);
        const double lr = 0.01;
        INFO("centered " << centered << " momentum " << momentum << " weight_decay " << wd);
        check_against_reference(
            s,
            [&](std::vector<double>& w, const std::vector<double>& g, int) {
              for (size_t i = 0; i < 5; ++i) {
                w[i] -= w[i] * wd * lr;
                velocity[i] = 0.8 * velocity[i] + 0.2 * g[i] * g[i];
                double denominator = velocity[i] + 1e-4;
                if (centered) {
                  average[i] = 0.8 * average[i] + 0.2 * g[i];
                  denominator = velocity[i] - average[i] * average[i] + 1e-4;
                }
                const double increment = lr * g[i] / std::sqrt(denominator);
                if (momentum > 0) {
                  mom[i] = momentum * mom[i] + increment;
                  w[i] -= mom[i];
                } else {
                  w[i] -= increment;
                }
              }
            },
            static_cast<float>(lr));
      }
}

TEST_CASE(
    "clipnorm clips each tensor to the norm, global_clipnorm all of them, clipvalue each value",
    "[optim][clip]") {
  auto run = [](OptimizerSpec s, std::vector<float> ga, std::vector<float> gb) {
    std::vector<float> a(ga.size(), 0.0f), b(gb.size(), 0.0f);
    Sgd sgd(s);
    sgd.attach({{"a", {static_cast<int64_t>(a.size())}, a.data(), ga.data(), true},
                {"b", {static_cast<int64_t>(b.size())}, b.data(), gb.data(), true}});
    sgd.step(1.0f);  // w = -g after clipping
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  OptimizerSpec s = spec_of("sgd");
  s.clipnorm = 1.0;
  // ||(3, 4)|| = 5: scaled to (0.6, 0.8); ||(0.3)|| < 1: unchanged.
  std::vector<float> w = run(s, {3, 4}, {0.3f});
  CHECK(w[0] == Approx(-0.6));
  CHECK(w[1] == Approx(-0.8));
  CHECK(w[2] == Approx(-0.3));
  // A zero gradient stays zero (Keras's guard against dividing by a zero norm).
  w = run(s, {0, 0}, {0});
  CHECK(w == std::vector<float>{0, 0, 0});

  s = spec_of("sgd");
  s.global_clipnorm = 1.0;
  // ||(3, 4, 12)|| = 13: everything scaled by 1/13.
  w = run(s, {3, 4}, {12});
  CHECK(w[0] == Approx(-3.0 / 13));
  CHECK(w[1] == Approx(-4.0 / 13));
  CHECK(w[2] == Approx(-12.0 / 13));
  w = run(s, {0.3f, 0.4f}, {0});  // a norm below the clip: unchanged
  CHECK(w[0] == Approx(-0.3));
  CHECK(w[1] == Approx(-0.4));

  s = spec_of("sgd");
  s.clipvalue = 0.5;
  w = run(s, {3, -0.25f}, {-7});
  CHECK(w == std::vector<float>{-0.5f, 0.25f, 0.5f});
}

TEST_CASE("Gradient norms come out the same for any thread count", "[optim][clip]") {
  // More values than one chunk of the sum, so several threads share it.
  const int64_t n = 100000;
  std::vector<float> g0(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    g0[static_cast<size_t>(i)] = std::sin(0.37f * static_cast<float>(i)) * 0.01f;
  auto run = [&](int threads) {
    set_parallel_threads(threads);
    std::vector<float> w(static_cast<size_t>(n), 0.0f), g = g0;
    OptimizerSpec s = spec_of("sgd");
    s.global_clipnorm = 0.5;
    Sgd sgd(s);
    sgd.attach({{"w", {n}, w.data(), g.data(), true}});
    sgd.step(1.0f);
    set_parallel_threads(0);
    return w;
  };
  const std::vector<float> one = run(1), all = run(0);
  CHECK(one == all);
  double norm = 0;
  for (float x : one) norm += static_cast<double>(x) * x;
  CHECK(std::sqrt(norm) == Approx(0.5).epsilon(1e-5));
}

TEST_CASE("use_ema keeps Keras's moving average, swap, finalize and overwrite use it",
          "[optim][ema]") {
  OptimizerSpec s = spec_of("sgd");
  s.use_ema = true;
  s.ema_momentum = 0.9;
  float w = 1.0f, g = 1.0f;
  Sgd sgd(s);
  sgd.attach({{"w", {1}, &w, &g, true}});
  // Step 1: w = 0.9, the average starts as the weights; step 2: w = 0.8, average 0.9*0.9 +
  // 0.1*0.8 = 0.89; step 3: w = 0.7, average 0.9*0.89 + 0.1*0.7 = 0.871.
  sgd.step(0.1f);
  CHECK(sgd.state().back()[0] == Approx(0.9f));
  sgd.step(0.1f);
  sgd.step(0.1f);
  CHECK(w == Approx(0.7));
  CHECK(sgd.state().back()[0] == Approx(0.871).epsilon(1e-6));
  sgd.swap_average();
  CHECK(w == Approx(0.871).epsilon(1e-6));
  CHECK(sgd.state().back()[0] == Approx(0.7));
  sgd.swap_average();
  CHECK(w == Approx(0.7));
  sgd.finalize();
  CHECK(w == Approx(0.871).epsilon(1e-6));
  CHECK(sgd.state().back()[0] == Approx(0.871).epsilon(1e-6));
  CHECK(sgd.state().size() == 1);  // plain SGD has no slot of its own: just the average

  // ema_overwrite_frequency 2: after steps 2, 4, ... the weights become the average.
  s.ema_overwrite_frequency = 2;
  float v = 1.0f, h = 1.0f;
  Sgd overwriting(s);
  overwriting.attach({{"v", {1}, &v, &h, true}});
  overwriting.step(0.1f);
  CHECK(v == Approx(0.9));
  overwriting.step(0.1f);
  CHECK(v == Approx(0.89));
  overwriting.step(0.1f);  // from 0.89: w = 0.79, average 0.9*0.89 + 0.1*0.79 = 0.88
  CHECK(v == Approx(0.79));
  CHECK(overwriting.state().back()[0] == Approx(0.88));
}

TEST_CASE("State slots per optimizer, in the documented order, restore exactly", "[optim]") {
  auto slots = [](OptimizerSpec s) {
    OneParam p;
    auto o = make_optimizer(s);
    o->attach(p.refs());
    return o->state().size();
  };
  OptimizerSpec s = spec_of("rmsprop");
  CHECK(slots(s) == 1);
  s.momentum = 0.5;
  CHECK(slots(s) == 2);
  s.centered = true;
  CHECK(slots(s) == 3);
  s.use_ema = true;
  CHECK(slots(s) == 4);
  s = spec_of("adam");
  s.amsgrad = true;
  CHECK(slots(s) == 3);

  OneParam p;
  auto o = make_optimizer(s);
  o->attach(p.refs());
  CHECK_THROWS_WITH(o->restore(1, {{1, 2}}), Catch::Contains("1 state slots, expected 3"));
}

TEST_CASE("Optimizers leave non-trainable parameters alone", "[optim]") {
  float w = 1.0f, stat = 3.0f, g = 1.0f;
  std::vector<ParamRef> refs{{"w", {1}, &w, &g, true}, {"moving_mean", {1}, &stat, nullptr, false}};
  OptimizerSpec s = spec_of("adamw");
  s.use_ema = true;
  s.clipnorm = 0.5;
  Adam adam(s);
  adam.attach(refs);
  adam.step(0.1f);
  CHECK(w < 1.0f);
  CHECK(stat == 3.0f);
}
