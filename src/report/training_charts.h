#pragma once
// The codelab's training plots built from run histories: accuracy and loss (training per batch
// as thin lines, validation per epoch as thick ones) and the learning-rate schedule.
// The x axis is in epochs: batch s of the S in epoch e sits at e + s/S, so the validation after
// epoch e (0-based) sits at e + 1, where that epoch's last batch ends.
#include <vector>

#include "report/run_history.h"
#include "report/svg_chart.h"

namespace mnistnet {

struct TrainingCharts {
  ChartSpec accuracy, loss, learning_rate;
  // The codelab's PlotTraining(zoom=N) axes: loss in [0, 1.2/N], accuracy in [1 - 1/(2N), 1].
  // Chosen as the largest power of two that keeps every validation value (and every training
  // epoch's value after the first, or the only one) on the axes; the start of training is
  // clipped, as there.
  double zoom = 1.0;
};

// One run: training in blue, validation in orange (matplotlib's first colours, as in the
// codelab). Several runs: each in its own colour (run_colour), training thin and faint.
// epochs_planned > 0 widens the x axis to the whole training, so it holds still while a
// report is reloaded during training.
TrainingCharts training_charts(const std::vector<RunHistory>& runs, int epochs_planned = 0);

// The colour of run i in comparisons (matplotlib's tab10, cycled).
const char* run_colour(size_t i);

}  // namespace mnistnet
