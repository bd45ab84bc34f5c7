#include "report/page_html.h"

#include "report/html_text.h"

namespace mnistnet {

namespace {

// Colours: the codelab's plot look (light grey plot area, white grid); red (#d62728) is kept
// for what went wrong.
constexpr const char* kCss = R"(
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 24px auto; max-width: 1180px;
       padding: 0 16px; color: #222; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p, li { line-height: 1.45; }
.headline { font-size: 15px; color: #444; }
.headline b { color: #111; }
.progress { background: #fff4d6; border: 1px solid #f0d48a; padding: 6px 10px; display: inline-block; }
.note { font-size: 13px; color: #666; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
svg.chart { background: #f0f0f0; border-radius: 4px; }
svg.chart .plot-area { fill: #f8f8f8; }
svg.chart .grid { stroke: #fff; stroke-width: 1.5; }
svg.chart .tick { font-size: 11px; fill: #555; }
svg.chart .axis-label, svg.chart .legend { font-size: 12px; fill: #333; }
svg.chart .chart-title { font-size: 15px; font-weight: bold; fill: #333; }
.digits { display: grid; grid-template-columns: repeat(10, 64px); gap: 6px 8px; }
.digit { margin: 0; text-align: center; }
.digit img { width: 56px; height: 56px; image-rendering: pixelated; border: 2px solid transparent; }
.digit figcaption { font-size: 15px; font-weight: bold; color: #333; }
.digit.wrong img { border-color: #d62728; }
.digit.wrong figcaption { color: #d62728; }
.digit .truth { font-size: 11px; font-weight: normal; color: #777; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 8px; text-align: right; border: 1px solid #e2e2e2; }
th { background: #f4f4f4; }
table.confusion td.cm { min-width: 34px; }
table.confusion td.diag { background: #d9f0d3; font-weight: bold; }
table.confusion td.zero { color: #bbb; }
.swatch { display: inline-block; width: 22px; height: 4px; vertical-align: middle; margin-right: 6px; }
pre { background: #f7f7f7; border: 1px solid #e2e2e2; padding: 10px; font-size: 12px; overflow-x: auto; }
)";

}  // namespace

std::string html_page(const std::string& title, const std::string& body, int refresh_seconds) {
  std::string s = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  if (refresh_seconds > 0)
    s += strprintf("<meta http-equiv=\"refresh\" content=\"%d\">\n", refresh_seconds);
  s += "<title>" + html_escape(title) + "</title>\n<style>" + kCss + "</style>\n</head>\n<body>\n";
  s += body;
  s += "</body>\n</html>\n";
  return s;
}

}  // namespace mnistnet
