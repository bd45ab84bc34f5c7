#pragma once
// Pieces of the report pages, each an HTML fragment.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "report/confusion_matrix.h"
#include "report/run_history.h"
#include "report/training_charts.h"

namespace mnistnet {

// The accuracy and loss charts side by side and a note on what they show, which depends on how
// many of the runs logged batches.csv (the learning-rate chart is placed by the page).
std::string curves_section(const TrainingCharts& charts, size_t runs_with_batches,
                           size_t runs_without);

// <div class="digits"> of <figure class="digit right|wrong">: each digit's image and its
// predicted label (with the true one after it when wrong).
std::string digit_grid_html(const Dataset& data, const std::vector<int32_t>& predicted,
                            const std::vector<int64_t>& shown);

// Rows: true class; columns: predicted class; the diagonal highlighted; per-class recall.
// Rows and columns headed by the class names (the indices where names runs short).
std::string confusion_table_html(const ConfusionMatrix& m,
                                 const std::vector<std::string>& names = {});

// One row per epoch (numbered from 1, as the console shows them).
std::string epochs_table_html(const std::vector<EpochResult>& epochs);

// "12.5%"-style percentages, "1m 23s"-style durations and "10,000"-style counts.
std::string percent(double fraction);
std::string thousands(int64_t n);  // 10000 -> "10,000"
std::string duration(double seconds);

}  // namespace mnistnet
