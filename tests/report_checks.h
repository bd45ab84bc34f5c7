#pragma once
// Test helpers for the HTML report: a tag-balance checker and small extractors, so the tests
// need no HTML parser. They rely on what the report promises: every '<' in text and attribute
// values is escaped, and SVG elements without content are written self-closed.
#include <algorithm>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

namespace mnistnet::testing {

// "" when every opened element is closed in order (HTML void elements excepted); otherwise a
// description of the first problem.
inline std::string tag_balance_problem(const std::string& html) {
  static const std::vector<std::string> kVoid = {"meta",  "img",  "br",  "hr",
                                                 "input", "link", "col", "wbr"};
  std::vector<std::string> open;
  size_t pos = 0;
  while ((pos = html.find('<', pos)) != std::string::npos) {
    const size_t end = html.find('>', pos);
    if (end == std::string::npos) return "unterminated tag at byte " + std::to_string(pos);
    const std::string tag = html.substr(pos + 1, end - pos - 1);
    pos = end + 1;
    if (tag.empty()) return "empty tag";
    if (tag[0] == '!') continue;  // <!DOCTYPE html>
    const bool closing = tag[0] == '/';
    const bool self_closed = tag.back() == '/';
    const size_t name_start = closing ? 1 : 0;
    const size_t name_end = tag.find_first_of(" \t\n/", name_start);
    const std::string name = tag.substr(
        name_start, name_end == std::string::npos ? std::string::npos : name_end - name_start);
    if (name.empty()) return "tag without a name: <" + tag + ">";
    if (closing) {
      if (open.empty()) return "</" + name + "> closes nothing";
      if (open.back() != name) return "</" + name + "> closes <" + open.back() + ">";
      open.pop_back();
    } else if (!self_closed && std::find(kVoid.begin(), kVoid.end(), name) == kVoid.end()) {
      open.push_back(name);
    }
  }
  return open.empty() ? "" : "<" + open.back() + "> is never closed";
}

// The text of the element that starts with `start` (e.g. "<svg class=\"chart\" id=\"loss\"")
// up to the first `end_tag` after it; "" when absent.
inline std::string element(const std::string& html, const std::string& start,
                           const std::string& end_tag) {
  const size_t from = html.find(start);
  if (from == std::string::npos) return "";
  const size_t to = html.find(end_tag, from);
  return to == std::string::npos ? "" : html.substr(from, to + end_tag.size() - from);
}

// The points="..." lists of the polylines whose class attribute is exactly `css_class`.
inline std::vector<std::vector<std::string>> polyline_points(const std::string& svg,
                                                             const std::string& css_class) {
  std::vector<std::vector<std::string>> result;
  const std::string marker = "<polyline class=\"" + css_class + "\"";
  for (size_t pos = svg.find(marker); pos != std::string::npos; pos = svg.find(marker, pos + 1)) {
    const size_t start = svg.find("points=\"", pos) + 8;
    const size_t stop = svg.find('"', start);
    std::istringstream in(svg.substr(start, stop - start));
    std::vector<std::string> points;
    for (std::string p; in >> p;) points.push_back(p);
    result.push_back(points);
  }
  return result;
}

inline size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos;
       pos = text.find(what, pos + what.size()))
    ++n;
  return n;
}

// The class attribute of each element starting with `tag_start` (e.g. "<figure class=\""), in
// order.
inline std::vector<std::string> classes_of(const std::string& html, const std::string& tag_start) {
  std::vector<std::string> classes;
  for (size_t pos = html.find(tag_start); pos != std::string::npos;
       pos = html.find(tag_start, pos + 1)) {
    const size_t start = pos + tag_start.size();
    classes.push_back(html.substr(start, html.find('"', start) - start));
  }
  return classes;
}

}  // namespace mnistnet::testing
