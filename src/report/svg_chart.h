#pragma once
// Line charts as inline SVG (no script, no external files): the report's training curves.
#include <string>
#include <vector>

namespace mnistnet {

struct ChartPoint {
  double x = 0.0, y = 0.0;
};

struct ChartSeries {
  std::string css_class;  // e.g. "train-batch": tests and the page's CSS find series by it
  std::string title;      // tooltip
  std::string color;      // CSS colour
  double width = 1.0;     // stroke width in pixels: thin per batch, thick per epoch
  double opacity = 1.0;
  bool markers = false;  // also a dot at each point (per-epoch values; one epoch is one dot)
  std::vector<ChartPoint> points;  // non-finite points are dropped
};

struct LegendEntry {
  std::string label, color;
  double width = 1.0;
};

struct ChartSpec {
  std::string id;  // unique in the page (names the clip path)
  std::string title, x_label, y_label;
  double x_min = 0.0, x_max = 1.0, y_min = 0.0, y_max = 1.0;  // series are clipped to these
  int width = 560, height = 340;
  std::vector<ChartSeries> series;
  std::vector<LegendEntry> legend;  // drawn in one row under the title
};

// One <svg> element with axes, grid, tick labels, the series as <polyline>s and the legend.
std::string render_svg_chart(const ChartSpec& spec);

// About `target` round tick values (1, 2 or 5 times a power of ten apart) within [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target);

}  // namespace mnistnet
