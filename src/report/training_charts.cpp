#include "report/training_charts.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "report/html_text.h"

namespace mnistnet {

namespace {

constexpr const char* kTrainColour = "#1f77b4";
constexpr const char* kValColour = "#ff7f0e";

// Per-batch points of one metric at fractional epochs. batches.csv has no steps-per-epoch
// column; an epoch's last recorded step is its length (every epoch's rows are complete: the
// logger writes them when the epoch ends).
std::vector<ChartPoint> batch_points(const std::vector<BatchRow>& batches,
                                     double BatchRow::*field) {
  std::map<int, int64_t> steps;
  for (const BatchRow& b : batches) steps[b.epoch] = std::max(steps[b.epoch], b.step);
  std::vector<ChartPoint> points;
  points.reserve(batches.size());
  for (const BatchRow& b : batches) {
    const double x = b.epoch + static_cast<double>(b.step) /
                                   static_cast<double>(std::max<int64_t>(steps[b.epoch], 1));
    points.push_back({x, b.*field});
  }
  return points;
}

std::vector<ChartPoint> epoch_points(const std::vector<EpochResult>& epochs,
                                     double EpochResult::*field) {
  std::vector<ChartPoint> points;
  for (const EpochResult& e : epochs) points.push_back({e.epoch + 1.0, e.*field});
  return points;
}

double choose_zoom(const std::vector<RunHistory>& runs) {
  double max_loss = 0.0, min_accuracy = 1.0;
  bool any = false;
  for (const RunHistory& run : runs)
    for (size_t i = 0; i < run.epochs.size(); ++i) {
      const EpochResult& e = run.epochs[i];
      // Only finite values steer the axes; a diverged epoch just leaves them.
      auto take = [&](double loss, double accuracy) {
        if (std::isfinite(loss)) max_loss = std::max(max_loss, loss), any = true;
        if (std::isfinite(accuracy)) min_accuracy = std::min(min_accuracy, accuracy), any = true;
      };
      take(e.val_loss, e.val_accuracy);
      // The first epoch's training values average its steep start: the codelab's zoom leaves
      // them above the frame. Unless they are all the run has: then its curve would vanish.
      if (i > 0 || run.epochs.size() == 1) take(e.loss, e.accuracy);
    }
  if (!any) return 1.0;
  double zoom = 256.0;
  for (; zoom > 1.0 / 256; zoom /= 2) {
    const double loss_top = 1.2 / zoom;
    const double accuracy_bottom = std::max(0.0, 1.0 - 1.0 / (2.0 * zoom));
    // A little headroom, so the last point is not drawn on the frame.
    const bool loss_fits = max_loss <= 0.92 * loss_top;
    const bool accuracy_fits =
        accuracy_bottom == 0.0 || min_accuracy >= accuracy_bottom + 0.04 * (1.0 - accuracy_bottom);
    if (loss_fits && accuracy_fits) break;
  }
  return zoom;
}

std::string short_number(double v) { return strprintf("%.3g", v); }

// batches.csv has the rate of every step (logs from before that column do not).
bool has_step_rates(const RunHistory& run) {
  return !run.batches.empty() && std::isfinite(run.batches.front().lr);
}

std::string lr_title(const std::vector<RunHistory>& runs) {
  if (runs.size() != 1 || runs[0].epochs.empty()) return "Learning rate";
  const bool per_step = has_step_rates(runs[0]);
  const double first = per_step ? runs[0].batches.front().lr : runs[0].epochs.front().lr;
  const double last = per_step ? runs[0].batches.back().lr : runs[0].epochs.back().lr;
  if (first == last) return "Learning rate: constant " + short_number(first);
  return "Learning rate: " + std::string(last < first ? "decays" : "goes") + " from " +
         short_number(first) + " to " + short_number(last);
}

}  // namespace

const char* run_colour(size_t i) {
  static const char* const kTab10[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                       "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return kTab10[i % 10];
}

TrainingCharts training_charts(const std::vector<RunHistory>& runs, int epochs_planned) {
  TrainingCharts c;
  c.zoom = choose_zoom(runs);
  double x_max = std::max(1, epochs_planned);
  double lr_max = 0.0;
  for (const RunHistory& run : runs)
    for (const EpochResult& e : run.epochs) {
      x_max = std::max(x_max, e.epoch + 1.0);
      if (std::isfinite(e.lr)) lr_max = std::max(lr_max, e.lr);
    }
  for (const RunHistory& run : runs)
    for (const BatchRow& b : run.batches)
      if (std::isfinite(b.lr)) lr_max = std::max(lr_max, b.lr);

  c.accuracy.id = "accuracy", c.accuracy.title = "Accuracy", c.accuracy.y_label = "accuracy";
  c.loss.id = "loss", c.loss.title = "Loss", c.loss.y_label = "loss (cross-entropy)";
  c.learning_rate.id = "learning-rate", c.learning_rate.title = lr_title(runs),
  c.learning_rate.y_label = "learning rate";
  for (ChartSpec* chart : {&c.accuracy, &c.loss, &c.learning_rate}) {
    chart->x_label = "epochs";
    chart->x_min = 0.0, chart->x_max = x_max;
  }
  c.accuracy.y_min = std::max(0.0, 1.0 - 1.0 / (2.0 * c.zoom)), c.accuracy.y_max = 1.0;
  c.loss.y_min = 0.0, c.loss.y_max = 1.2 / c.zoom;
  c.learning_rate.y_min = 0.0, c.learning_rate.y_max = lr_max > 0 ? lr_max * 1.1 : 1.0;

  const bool single = runs.size() == 1;
  for (size_t r = 0; r < runs.size(); ++r) {
    const RunHistory& run = runs[r];
    const std::string train_colour = single ? kTrainColour : run_colour(r);
    const std::string val_colour = single ? kValColour : run_colour(r);
    const double train_opacity = single ? 0.9 : 0.45;
    const std::string tag = " run-" + std::to_string(r);
    const std::string who = single ? "" : run.name + ": ";
    for (bool accuracy : {true, false}) {
      ChartSpec& chart = accuracy ? c.accuracy : c.loss;
      const std::string metric = accuracy ? "accuracy" : "loss";
      if (!run.batches.empty()) {
        chart.series.push_back(
            {"train-batch" + tag,
             who + "training " + metric + " per batch (running mean of the epoch)", train_colour,
             1.0, train_opacity, false,
             batch_points(run.batches, accuracy ? &BatchRow::accuracy : &BatchRow::loss)});
      } else {
        // Runs from before batches.csv: the training value at each epoch's end instead.
        chart.series.push_back(
            {"train-epoch" + tag, who + "training " + metric + " per epoch", train_colour, 1.0,
             train_opacity, true,
             epoch_points(run.epochs, accuracy ? &EpochResult::accuracy : &EpochResult::loss)});
      }
      chart.series.push_back({"val-epoch" + tag, who + "validation " + metric + " per epoch",
                              val_colour, 3.0, 1.0, true,
                              epoch_points(run.epochs, accuracy ? &EpochResult::val_accuracy
                                                                : &EpochResult::val_loss)});
    }
    // The rate of every step where batches.csv has it (per-step schedules change it every
    // step); otherwise the epoch's, held through it: a step plot, as the codelab draws it.
    ChartSeries lr{
        "lr" + tag, who + "learning rate", single ? kTrainColour : run_colour(r), 3.0, 1.0, false,
        {}};
    if (has_step_rates(run)) {
      lr.points = batch_points(run.batches, &BatchRow::lr);
    } else {
      for (const EpochResult& e : run.epochs) {
        lr.points.push_back({static_cast<double>(e.epoch), e.lr});
        lr.points.push_back({e.epoch + 1.0, e.lr});
      }
    }
    c.learning_rate.series.push_back(std::move(lr));
  }

  if (single) {
    const bool per_batch = !runs[0].batches.empty();
    for (ChartSpec* chart : {&c.accuracy, &c.loss})
      chart->legend = {
          {per_batch ? "training (per batch)" : "training (per epoch)", kTrainColour, 1.0},
          {"validation", kValColour, 3.0}};
  } else {
    for (ChartSpec* chart : {&c.accuracy, &c.loss})
      chart->legend = {{"training (thin)", "#888888", 1.0}, {"validation (thick)", "#888888", 3.0}};
  }
  return c;
}

}  // namespace mnistnet
