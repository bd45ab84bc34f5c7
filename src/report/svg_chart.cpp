#include "report/svg_chart.h"

#include <algorithm>
#include <cmath>

#include "report/html_text.h"

namespace mnistnet {

namespace {

// Plot area margins, in pixels: room for tick labels (left), the title and legend (top) and
// the x label (bottom).
constexpr double kLeft = 58, kRight = 14, kTop = 52, kBottom = 42;

// Far-off values (a diverged loss) would still be clipped, but huge coordinates make the SVG
// renderer's life hard; nothing beyond this many pixels outside the plot matters.
double clamp_pixel(double v) { return std::clamp(v, -5000.0, 5000.0); }

std::string tick_label(double v, double step) {
  if (std::fabs(v) < step * 1e-6) v = 0.0;  // -0 and 1e-17 print as 0
  return strprintf("%.6g", v);
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  std::vector<double> ticks;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi) || target < 1) return ticks;
  const double raw = (hi - lo) / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k += 1.0)
    ticks.push_back(k * step);
  return ticks;
}

std::string render_svg_chart(const ChartSpec& spec) {
  const double w = spec.width, h = spec.height;
  const double pw = w - kLeft - kRight, ph = h - kTop - kBottom;
  const double xspan = spec.x_max > spec.x_min ? spec.x_max - spec.x_min : 1.0;
  const double yspan = spec.y_max > spec.y_min ? spec.y_max - spec.y_min : 1.0;
  auto px = [&](double x) { return clamp_pixel(kLeft + (x - spec.x_min) / xspan * pw); };
  auto py = [&](double y) { return clamp_pixel(kTop + ph - (y - spec.y_min) / yspan * ph); };

  std::string s;
  s += strprintf(
      "<svg class=\"chart\" id=\"%s\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
      "role=\"img\">\n",
      html_escape(spec.id).c_str(), spec.width, spec.height, spec.width, spec.height);
  s += "<title>" + html_escape(spec.title) + "</title>\n";
  s += strprintf(
      "<defs><clipPath id=\"%s-clip\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
      "height=\"%.1f\"/></clipPath></defs>\n",
      html_escape(spec.id).c_str(), kLeft, kTop, pw, ph);
  s += strprintf(
      "<rect class=\"plot-area\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n", kLeft,
      kTop, pw, ph);
  s += strprintf("<text class=\"chart-title\" x=\"%.1f\" y=\"18\">%s</text>\n", kLeft,
                 html_escape(spec.title).c_str());

  // Grid lines and tick labels.
  const std::vector<double> xticks =
      nice_ticks(spec.x_min, spec.x_max, std::max(2, static_cast<int>(pw / 60)));
  const std::vector<double> yticks =
      nice_ticks(spec.y_min, spec.y_max, std::max(2, static_cast<int>(ph / 45)));
  const double xstep = xticks.size() > 1 ? xticks[1] - xticks[0] : 1.0;
  const double ystep = yticks.size() > 1 ? yticks[1] - yticks[0] : 1.0;
  for (double t : xticks) {
    s += strprintf("<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", px(t),
                   kTop, px(t), kTop + ph);
    s += strprintf("<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                   px(t), kTop + ph + 15, tick_label(t, xstep).c_str());
  }
  for (double t : yticks) {
    s += strprintf("<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", kLeft,
                   py(t), kLeft + pw, py(t));
    s += strprintf("<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                   kLeft - 5, py(t) + 4, tick_label(t, ystep).c_str());
  }
  s += strprintf(
      "<text class=\"axis-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
      kLeft + pw / 2, h - 8, html_escape(spec.x_label).c_str());
  s += strprintf(
      "<text class=\"axis-label\" transform=\"translate(14 %.1f) rotate(-90)\" "
      "text-anchor=\"middle\">%s</text>\n",
      kTop + ph / 2, html_escape(spec.y_label).c_str());

  // The series, clipped to the plot area (the codelab's zoomed axes cut early epochs off).
  s += strprintf("<g clip-path=\"url(#%s-clip)\">\n", html_escape(spec.id).c_str());
  for (const ChartSeries& series : spec.series) {
    std::string points, markers;
    points.reserve(series.points.size() * 12);
    for (const ChartPoint& p : series.points) {
      if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
      if (!points.empty()) points += ' ';
      points += strprintf("%.1f,%.1f", px(p.x), py(p.y));
      if (series.markers)
        markers += strprintf("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"/>", px(p.x), py(p.y),
                             series.width + 1.0);
    }
    s += strprintf(
        "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%.2g\" "
        "stroke-opacity=\"%.2g\" "
        "stroke-linejoin=\"round\" points=\"",
        html_escape(series.css_class).c_str(), html_escape(series.color).c_str(), series.width,
        series.opacity);
    s += points;
    s += "\"><title>" + html_escape(series.title) + "</title></polyline>\n";
    if (!markers.empty())
      s += "<g class=\"markers\" fill=\"" + html_escape(series.color) + "\">" + markers + "</g>\n";
  }
  s += "</g>\n";

  // Legend: one row under the title; entries are spaced by a rough text width estimate.
  double x = kLeft;
  for (const LegendEntry& e : spec.legend) {
    s += strprintf(
        "<line class=\"legend-swatch\" x1=\"%.1f\" y1=\"36\" x2=\"%.1f\" y2=\"36\" stroke=\"%s\" "
        "stroke-width=\"%.2g\"/>",
        x, x + 22, html_escape(e.color).c_str(), e.width);
    s += strprintf("<text class=\"legend\" x=\"%.1f\" y=\"40\">%s</text>\n", x + 27,
                   html_escape(e.label).c_str());
    x += 27 + 6.5 * static_cast<double>(e.label.size()) + 18;
  }
  s += "</svg>\n";
  return s;
}

}  // namespace mnistnet
