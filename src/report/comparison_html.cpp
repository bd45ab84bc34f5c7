// render_comparison_html (declared in report_html.h): several runs on shared axes.
#include <algorithm>

#include "report/html_text.h"
#include "report/page_html.h"
#include "report/report_html.h"
#include "report/report_sections.h"
#include "report/training_charts.h"

namespace mnistnet {

namespace {

// One row per run, its colour first: the legend of every chart on the page.
std::string runs_table(const std::vector<RunHistory>& runs) {
  std::string s =
      "<table class=\"runs\">\n<tr><th>run</th><th>epochs</th><th>val_accuracy</th><th>best "
      "val_accuracy</th>"
      "<th>val_loss</th><th>accuracy</th><th>training time</th></tr>\n";
  for (size_t r = 0; r < runs.size(); ++r) {
    const RunHistory& run = runs[r];
    s += strprintf(
        "<tr class=\"run run-%zu\"><th style=\"text-align: left\"><span class=\"swatch\" "
        "style=\"background: %s\">"
        "</span>%s</th>",
        r, run_colour(r), html_escape(run.name).c_str());
    if (run.epochs.empty()) {
      s += "<td>0</td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td></tr>\n";
      continue;
    }
    double seconds = 0.0;
    const EpochResult* best = &run.epochs.front();
    for (const EpochResult& e : run.epochs) {
      seconds += e.seconds;
      if (e.val_accuracy > best->val_accuracy) best = &e;
    }
    const EpochResult& last = run.epochs.back();
    s += strprintf(
        "<td>%zu</td><td>%s</td><td>%s (epoch %d)</td><td>%.4f</td><td>%s</td><td>%s</td></tr>\n",
        run.epochs.size(), percent(last.val_accuracy).c_str(), percent(best->val_accuracy).c_str(),
        best->epoch + 1, last.val_loss, percent(last.accuracy).c_str(), duration(seconds).c_str());
  }
  return s + "</table>\n";
}

}  // namespace

std::string render_comparison_html(const std::vector<RunHistory>& runs) {
  const auto with_batches = static_cast<size_t>(std::count_if(
      runs.begin(), runs.end(), [](const RunHistory& r) { return !r.batches.empty(); }));
  std::string body = strprintf("<h1>Comparison of %zu runs</h1>\n", runs.size());
  body += runs_table(runs);
  body += "<h2>Training curves</h2>\n";
  const TrainingCharts charts = training_charts(runs);
  body += curves_section(charts, with_batches, runs.size() - with_batches);
  body += "<h2>Learning rate</h2>\n" + render_svg_chart(charts.learning_rate);
  return html_page("mnistnet comparison: " + std::to_string(runs.size()) + " runs", body);
}

}  // namespace mnistnet
