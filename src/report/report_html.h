#pragma once
// The report pages: one self-contained HTML file each (inline CSS and SVG, images as data:
// URIs, no scripts, nothing fetched), so a report can be mailed, archived or opened offline.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "report/run_history.h"

namespace mnistnet {

struct ReportInputs {
  RunHistory history;
  std::string model_name;     // the config's name
  std::string model_summary;  // summary_table(): Keras's text table
  std::string config_json;    // the resolved config, pretty-printed; empty when unknown
  // The validation set and the model's arg-max class for each of its examples, for the digit
  // grid and the confusion matrix; both null: the page has curves only.
  const Dataset* validation = nullptr;
  const std::vector<int32_t>* predicted = nullptr;
  int num_classes = 10;
  // The test set's figures when the run validated on a held-out split (summary.json's
  // test_accuracy, test_loss); negative: none.
  double test_accuracy = -1.0, test_loss = 0.0;
  size_t grid_limit = 100;  // digits shown
  // While training runs: its total epochs (more than history.epochs holds); the page then
  // says how far training is and reloads itself every refresh_seconds.
  int epochs_planned = 0;
  int refresh_seconds = 30;
};

// One run: headline numbers, accuracy and loss curves, learning-rate schedule, the digit grid
// (misrecognised first, predicted label under each, red when wrong), the confusion matrix,
// the per-epoch table, the model summary and the config.
std::string render_report_html(const ReportInputs& inputs);

// Several runs' curves overlaid on shared axes, one colour per run, with a legend and a table
// of their final numbers (a hyperparameter sweep at a glance).
std::string render_comparison_html(const std::vector<RunHistory>& runs);

}  // namespace mnistnet
