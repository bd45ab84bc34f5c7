// Learning-rate schedules at given steps against Keras's formulas (values worked out by hand),
// the codelab's per-epoch decay, and ReduceLROnPlateau epoch by epoch.
#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>

#include "optim/lr_schedule.h"
#include "report/training_charts.h"
#include "train/reduce_lr_on_plateau.h"

using namespace mnistnet;

namespace {

ScheduleSpec schedule(const std::string& type, double initial) {
  ScheduleSpec s;
  s.type = type;
  s.initial_learning_rate = initial;
  return s;
}

double at(const ScheduleSpec& s, int64_t step) { return learning_rate_at_step(s, step); }

}  // namespace

TEST_CASE("Exponential schedule: lr * decay^epoch + minimum", "[optim][schedule]") {
  OptimizerSpec o;
  o.learning_rate = 0.01;
  ScheduleSpec s;
  CHECK(learning_rate_for_epoch(o, s, 5) == 0.01);
  CHECK_FALSE(schedule_is_per_step(s));
  s.type = "exponential";
  s.decay_rate = 0.6;
  CHECK_FALSE(schedule_is_per_step(s));
  CHECK(learning_rate_for_epoch(o, s, 0) == Approx(0.01));
  CHECK(learning_rate_for_epoch(o, s, 3) == Approx(0.01 * 0.216));
  s.minimum = 1e-4;
  CHECK(learning_rate_for_epoch(o, s, 3) == Approx(0.01 * 0.216 + 1e-4));
}

TEST_CASE("ExponentialDecay: initial * decay_rate^(step / decay_steps), staircase floors it",
          "[optim][schedule]") {
  ScheduleSpec s = schedule("ExponentialDecay", 0.1);
  s.decay_steps = 10;
  s.decay_rate = 0.5;
  CHECK(schedule_is_per_step(s));
  CHECK(at(s, 0) == Approx(0.1));
  CHECK(at(s, 5) == Approx(0.1 * std::sqrt(0.5)));
  CHECK(at(s, 10) == Approx(0.05));
  CHECK(at(s, 25) == Approx(0.1 * std::pow(0.5, 2.5)));
  s.staircase = true;
  CHECK(at(s, 9) == Approx(0.1));
  CHECK(at(s, 10) == Approx(0.05));
  CHECK(at(s, 25) == Approx(0.025));
}

TEST_CASE("PiecewiseConstantDecay: values[i] up to and including boundaries[i]",
          "[optim][schedule]") {
  ScheduleSpec s = schedule("PiecewiseConstantDecay", 0.0);
  s.boundaries = {10, 20};
  s.values = {1.0, 0.5, 0.1};
  CHECK(at(s, 0) == 1.0);
  CHECK(at(s, 10) == 1.0);
  CHECK(at(s, 11) == 0.5);
  CHECK(at(s, 20) == 0.5);
  CHECK(at(s, 21) == 0.1);
  CHECK(at(s, 100000) == 0.1);
}

TEST_CASE("CosineDecay: half a cosine down to alpha, after an optional linear warmup",
          "[optim][schedule]") {
  ScheduleSpec s = schedule("CosineDecay", 1.0);
  s.decay_steps = 100;
  s.alpha = 0.1;
  CHECK(at(s, 0) == Approx(1.0));
  CHECK(at(s, 50) == Approx(0.1 + 0.9 * 0.5));  // cos(pi/2) = 0
  CHECK(at(s, 25) == Approx(0.1 + 0.9 * 0.5 * (1 + std::cos(std::numbers::pi / 4))));
  CHECK(at(s, 100) == Approx(0.1));
  CHECK(at(s, 1000) == Approx(0.1));  // held at the end

  // warmup_target: from initial (0) up to 1 in 10 steps, then the decay from 1 over 100.
  ScheduleSpec w = schedule("CosineDecay", 0.0);
  w.decay_steps = 100;
  w.has_warmup_target = true;
  w.warmup_target = 1.0;
  w.warmup_steps = 10;
  CHECK(at(w, 0) == 0.0);
  CHECK(at(w, 5) == Approx(0.5));
  CHECK(at(w, 10) == Approx(1.0));
  CHECK(at(w, 60) == Approx(0.5));
  CHECK(at(w, 110) == Approx(0.0).margin(1e-12));
  CHECK(at(w, 5000) == Approx(0.0).margin(1e-12));
  // Keras ignores warmup_steps without a warmup_target.
  s.warmup_steps = 10;
  CHECK(at(s, 50) == Approx(0.55));
}

TEST_CASE("CosineDecayRestarts: periods t_mul times longer, restarts m_mul times lower",
          "[optim][schedule]") {
  ScheduleSpec s = schedule("CosineDecayRestarts", 1.0);
  s.first_decay_steps = 10;
  s.t_mul = 2.0;
  s.m_mul = 0.5;
  // Periods: [0, 10) at 1, [10, 30) at 0.5, [30, 70) at 0.25, [70, 150) at 0.125.
  CHECK(at(s, 0) == Approx(1.0));
  CHECK(at(s, 5) == Approx(0.5));
  CHECK(at(s, 10) == Approx(0.5));
  CHECK(at(s, 20) == Approx(0.25));
  CHECK(at(s, 30) == Approx(0.25));
  CHECK(at(s, 50) == Approx(0.125));
  CHECK(at(s, 70) == Approx(0.125));
  CHECK(at(s, 29) == Approx(0.25 * (1 + std::cos(std::numbers::pi * 19.0 / 20.0))));
  s.alpha = 0.2;  // the floor: initial * ((1 - alpha) * cosine + alpha)
  CHECK(at(s, 5) == Approx(0.8 * 0.5 + 0.2));
  CHECK(at(s, 20) == Approx(0.8 * 0.25 + 0.2));

  ScheduleSpec even = schedule("CosineDecayRestarts", 2.0);
  even.first_decay_steps = 10;
  even.t_mul = 1.0;
  CHECK(at(even, 15) == Approx(1.0));
  CHECK(at(even, 20) == Approx(2.0));
  CHECK(at(even, 39) == Approx(1.0 + std::cos(std::numbers::pi * 0.9)));
}

TEST_CASE("ReduceLROnPlateau follows Keras epoch by epoch", "[optim][plateau]") {
  ReduceLROnPlateauSpec spec;
  spec.enabled = true;
  spec.monitor = "val_loss";
  spec.factor = 0.5;
  spec.patience = 2;
  spec.min_delta = 0.0;
  spec.cooldown = 1;
  spec.min_lr = 0.2;
  ReduceLROnPlateau plateau(spec, 1.0);
  auto epoch = [&](double val_loss) {
    EpochResult r;
    r.val_loss = val_loss;
    plateau.on_epoch_end(r);
    return plateau.learning_rate();
  };
  CHECK(epoch(1.0) == 1.0);  // the first value is the best
  CHECK(epoch(1.0) == 1.0);  // wait 1
  CHECK(epoch(1.0) == 0.5);  // wait 2 = patience: halved, cooldown 1
  CHECK(epoch(1.0) == 0.5);  // cooldown ends, wait 1
  CHECK(epoch(0.9) == 0.5);  // improves: wait 0
  CHECK(epoch(0.95) == 0.5);
  CHECK(epoch(0.95) == 0.25);
  CHECK(epoch(0.95) == 0.25);
  CHECK(epoch(0.95) == static_cast<float>(0.2));  // 0.125, but never below min_lr
  CHECK(epoch(0.95) == static_cast<float>(0.2));
  CHECK(epoch(0.95) == static_cast<float>(0.2));  // at min_lr: no more reductions

  // The state round-trips; mode max for accuracies; min_delta must be beaten.
  ReduceLROnPlateau copy(spec, 1.0);
  copy.restore(plateau.state());
  CHECK(copy.state() == plateau.state());
  spec.monitor = "val_accuracy";
  spec.min_delta = 0.01;
  spec.cooldown = 0;
  spec.patience = 1;
  spec.min_lr = 0.0;
  ReduceLROnPlateau accuracy(spec, 0.1);
  auto acc_epoch = [&](double val_accuracy) {
    EpochResult r;
    r.val_accuracy = val_accuracy;
    accuracy.on_epoch_end(r);
    return accuracy.learning_rate();
  };
  CHECK(acc_epoch(0.90) == 0.1);
  CHECK(acc_epoch(0.95) == 0.1);                        // beats 0.90 + 0.01
  CHECK(acc_epoch(0.955) == static_cast<float>(0.05));  // not by min_delta: reduced
  CHECK(acc_epoch(0.97) == static_cast<float>(0.05));   // improves again
  CHECK_THROWS_AS(accuracy.restore(nlohmann::json{{"wait", 1}}), std::invalid_argument);
}

TEST_CASE("The report plots the rate of every step when batches.csv has it", "[report][schedule]") {
  RunHistory run;
  run.name = "r";
  for (int e = 0; e < 2; ++e) {
    EpochResult r;
    r.epoch = e;
    r.lr = 0.1;  // metrics.csv's lr column: not what a per-step plot draws
    run.epochs.push_back(r);
    for (int s = 1; s <= 4; ++s) run.batches.push_back({e, s, 0.5, 0.9, 0.01 * (4 * e + s)});
  }
  TrainingCharts charts = training_charts({run});
  REQUIRE(charts.learning_rate.series.size() == 1);
  const std::vector<ChartPoint>& points = charts.learning_rate.series[0].points;
  REQUIRE(points.size() == 8);
  CHECK(points[0].x == 0.25);
  CHECK(points[0].y == 0.01);
  CHECK(points[5].x == 1.5);
  CHECK(points[5].y == Approx(0.06));
  CHECK(charts.learning_rate.title == "Learning rate: goes from 0.01 to 0.08");
  CHECK(charts.learning_rate.y_max == Approx(0.1 * 1.1));

  // A batches.csv from before the lr column: the per-epoch step plot.
  for (BatchRow& b : run.batches) b.lr = std::nan("");
  charts = training_charts({run});
  CHECK(charts.learning_rate.series[0].points.size() == 4);
  CHECK(charts.learning_rate.title == "Learning rate: constant 0.1");
}
