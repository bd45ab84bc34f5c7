#include "report/report_sections.h"

#include <algorithm>
#include <cmath>

#include "report/digit_grid.h"
#include "report/html_text.h"

namespace mnistnet {

std::string thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string percent(double fraction) { return strprintf("%.2f%%", fraction * 100.0); }

std::string duration(double seconds) {
  if (!(seconds >= 0)) return "?";
  const auto total = static_cast<long long>(std::llround(seconds));
  if (total < 60) return strprintf("%.1f s", seconds);
  if (total < 3600) return strprintf("%lldm %02llds", total / 60, total % 60);
  return strprintf("%lldh %02lldm", total / 3600, total / 60 % 60);
}

std::string curves_section(const TrainingCharts& charts, size_t runs_with_batches,
                           size_t runs_without) {
  std::string s = "<div class=\"charts\">\n" + render_svg_chart(charts.accuracy) +
                  render_svg_chart(charts.loss) + "</div>\n";
  s += "<p class=\"note\">";
  if (runs_with_batches > 0)
    s += "Thin lines: training values after each batch (the epoch's running mean, as Keras reports "
         "them). ";
  if (runs_without > 0)
    s += runs_with_batches + runs_without == 1
             ? "This run has no batches.csv (it predates it): thin lines join the training values "
               "at each epoch's end. "
             : "Runs without batches.csv (older ones): thin lines join the training values at each "
               "epoch's end. ";
  s += "Thick lines: validation after each epoch. ";
  s += strprintf(
      "Axes zoomed as the codelab's PlotTraining(zoom=%g): loss 0 to %.3g, accuracy %.4g to 1; "
      "what leaves them is cut off.</p>\n",
      charts.zoom, 1.2 / charts.zoom, std::max(0.0, 1.0 - 1.0 / (2.0 * charts.zoom)));
  return s;
}

std::string digit_grid_html(const Dataset& data, const std::vector<int32_t>& predicted,
                            const std::vector<int64_t>& shown) {
  std::string s = "<div class=\"digits\">\n";
  for (int64_t index : shown) {
    const auto i = static_cast<size_t>(index);
    const int truth = data.labels[i], guess = predicted[i];
    const bool wrong = guess != truth;
    s += strprintf(
        "<figure class=\"digit %s\" title=\"validation example %lld: label %d, predicted %d\">",
        wrong ? "wrong" : "right", static_cast<long long>(index), truth, guess);
    s += "<img alt=\"" + std::to_string(truth) + "\" src=\"" +
         png_data_uri(digit_png(data, index)) + "\">";
    s += strprintf("<figcaption>%d", guess);
    if (wrong) s += strprintf(" <span class=\"truth\">(%d)</span>", truth);
    s += "</figcaption></figure>\n";
  }
  s += "</div>\n";
  return s;
}

std::string confusion_table_html(const ConfusionMatrix& m, const std::vector<std::string>& names) {
  auto name = [&](int c) {
    return static_cast<size_t>(c) < names.size() ? html_escape(names[static_cast<size_t>(c)])
                                                 : std::to_string(c);
  };
  int64_t max_off = 0;
  for (int t = 0; t < m.classes; ++t)
    for (int p = 0; p < m.classes; ++p)
      if (t != p) max_off = std::max(max_off, m.at(t, p));

  std::string s = "<table class=\"confusion\">\n<tr><th>true \\ predicted</th>";
  for (int p = 0; p < m.classes; ++p) s += "<th>" + name(p) + "</th>";
  s += "<th>total</th><th>recall</th></tr>\n";
  for (int t = 0; t < m.classes; ++t) {
    s += "<tr><th>" + name(t) + "</th>";
    int64_t row = 0;
    for (int p = 0; p < m.classes; ++p) {
      const int64_t n = m.at(t, p);
      row += n;
      if (t == p) {
        s += strprintf("<td class=\"cm diag\">%lld</td>", static_cast<long long>(n));
      } else if (n == 0) {
        s += "<td class=\"cm zero\">0</td>";
      } else {
        // Off-diagonal counts shade from pale to full red with their share of the largest.
        const double alpha = 0.15 + 0.65 * static_cast<double>(n) / static_cast<double>(max_off);
        s += strprintf("<td class=\"cm\" style=\"background: rgba(214, 39, 40, %.2f)\">%lld</td>",
                       alpha, static_cast<long long>(n));
      }
    }
    s += strprintf("<td>%lld</td><td>%s</td></tr>\n", static_cast<long long>(row),
                   row > 0
                       ? percent(static_cast<double>(m.at(t, t)) / static_cast<double>(row)).c_str()
                       : "-");
  }
  s += "</table>\n";
  return s;
}

std::string epochs_table_html(const std::vector<EpochResult>& epochs) {
  std::string s =
      "<table "
      "class=\"epochs\">\n<tr><th>epoch</th><th>accuracy</th><th>loss</th><th>val_accuracy</th>"
      "<th>val_loss</th><th>lr</th><th>seconds</th></tr>\n";
  for (const EpochResult& e : epochs)
    s += strprintf(
        "<tr><td>%d</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.3g</td><td>%.1f</"
        "td></tr>\n",
        e.epoch + 1, e.accuracy, e.loss, e.val_accuracy, e.val_loss, e.lr, e.seconds);
  s += "</table>\n";
  return s;
}

}  // namespace mnistnet
