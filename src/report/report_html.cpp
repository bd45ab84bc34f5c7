#include "report/report_html.h"

#include <stdexcept>

#include "report/confusion_matrix.h"
#include "report/digit_grid.h"
#include "report/html_text.h"
#include "report/page_html.h"
#include "report/report_sections.h"
#include "report/training_charts.h"

namespace mnistnet {

namespace {

std::string headline(const ReportInputs& in, const ConfusionMatrix* confusion) {
  const std::vector<EpochResult>& epochs = in.history.epochs;
  std::string s = "<p class=\"headline\">";
  if (!in.model_name.empty()) s += "Model <b>" + html_escape(in.model_name) + "</b> &middot; ";
  if (epochs.empty()) return s + "no epoch finished yet</p>\n";
  double seconds = 0.0;
  const EpochResult* best = &epochs.front();
  for (const EpochResult& e : epochs) {
    seconds += e.seconds;
    if (e.val_accuracy > best->val_accuracy) best = &e;
  }
  const EpochResult& last = epochs.back();
  s += strprintf("%zu epoch%s in %s &middot; validation accuracy <b>%s</b>, loss %.4f",
                 epochs.size(), epochs.size() == 1 ? "" : "s", duration(seconds).c_str(),
                 percent(last.val_accuracy).c_str(), last.val_loss);
  if (best != &last)
    s += strprintf(" (best %s after epoch %d)", percent(best->val_accuracy).c_str(),
                   best->epoch + 1);
  if (in.test_accuracy >= 0.0)
    s += strprintf(" &middot; test accuracy <b>%s</b>, loss %.4f (evaluated once, at the end)",
                   percent(in.test_accuracy).c_str(), in.test_loss);
  if (confusion)
    s += " &middot; <b>" + thousands(confusion->total() - confusion->correct()) + "</b> of " +
         thousands(confusion->total()) + " validation digits misrecognised";
  return s + "</p>\n";
}

}  // namespace

std::string render_report_html(const ReportInputs& in) {
  const bool have_predictions = in.validation != nullptr && in.predicted != nullptr;
  ConfusionMatrix confusion;
  if (have_predictions)
    confusion = confusion_matrix(in.validation->labels, *in.predicted, in.num_classes);
  const auto done = static_cast<int>(in.history.epochs.size());
  const bool training = in.epochs_planned > done;

  std::string body = "<h1>" + html_escape(in.history.name) + "</h1>\n";
  body += headline(in, have_predictions ? &confusion : nullptr);
  if (training)
    body += strprintf(
        "<p class=\"progress\">Training: epoch %d of %d done. This page reloads every %d s.</p>\n",
        done, in.epochs_planned, in.refresh_seconds);

  body += "<h2>Training curves</h2>\n";
  const TrainingCharts charts = training_charts({in.history}, in.epochs_planned);
  const bool per_batch = !in.history.batches.empty();
  body += curves_section(charts, per_batch ? 1 : 0, per_batch ? 0 : 1);
  // The schedule beside the per-epoch numbers it produced.
  body += "<h2>Learning rate and epochs</h2>\n<div class=\"charts\">\n" +
          render_svg_chart(charts.learning_rate) + epochs_table_html(in.history.epochs) +
          "</div>\n";

  if (have_predictions) {
    const std::vector<int64_t> shown = grid_examples(*in.validation, *in.predicted, in.grid_limit);
    const int64_t wrong = confusion.total() - confusion.correct();
    body += "<h2>Predictions</h2>\n";
    body += strprintf(
        "<p class=\"note\">%zu of the %s validation digits, misrecognised ones first (%s in all), "
        "then recognised ones. Under each: the predicted label, red when wrong, with the true "
        "label in "
        "brackets.</p>\n",
        shown.size(), thousands(confusion.total()).c_str(), thousands(wrong).c_str());
    body += digit_grid_html(*in.validation, *in.predicted, shown);
    body += "<h2>Confusion matrix</h2>\n";
    body +=
        "<p class=\"note\">Validation digits by true class (rows) and predicted class "
        "(columns).</p>\n";
    body += confusion_table_html(confusion, in.validation->class_names);
  }

  if (!in.model_summary.empty())
    body += "<h2>Model</h2>\n<pre class=\"summary\">" + html_escape(in.model_summary) + "</pre>\n";
  if (!in.config_json.empty())
    body +=
        "<h2>Configuration</h2>\n<pre class=\"config\">" + html_escape(in.config_json) + "</pre>\n";
  return html_page(in.history.name + " - mnistnet report", body, training ? in.refresh_seconds : 0);
}

}  // namespace mnistnet
