#include "sweep/leaderboard.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "report/run_history.h"

namespace mnistnet {
namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of("\r\n");
  if (end == std::string::npos) return "";
  const size_t start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end - (start == std::string::npos ? 0 : start + 1) + 1);
}

void fill_from_metrics(TrialResult& r, const fs::path& dir) {
  if (!fs::exists(dir / "metrics.csv")) return;
  std::vector<EpochResult> epochs;
  try {
    epochs = read_metrics_csv(dir / "metrics.csv");
  } catch (const UserError&) {
    return;  // torn or foreign: the status says what happened
  }
  if (epochs.empty()) return;
  r.has_metrics = true;
  r.epochs = static_cast<int>(epochs.size());
  r.val_accuracy = epochs.back().val_accuracy;
  r.val_loss = epochs.back().val_loss;
  r.best_val_accuracy = -1.0;
  r.best_val_loss = INFINITY;
  r.seconds = 0.0;
  for (const EpochResult& e : epochs) {
    if (e.val_accuracy > r.best_val_accuracy) r.best_val_accuracy = e.val_accuracy;
    if (e.val_loss < r.best_val_loss) r.best_val_loss = e.val_loss;  // NaN never wins
    r.seconds += e.seconds;
  }
  if (r.best_val_accuracy < 0.0) r.best_val_accuracy = NAN;
  if (std::isinf(r.best_val_loss)) r.best_val_loss = NAN;
}

int status_rank(const std::string& status) {
  static const char* order[] = {"ok", "diverged", "failed", "incomplete", "missing"};
  for (int i = 0; i < 5; ++i)
    if (status == order[i]) return i;
  return 5;
}

std::string number(double x, const char* format) {
  if (std::isnan(x)) return "nan";
  char text[64];
  std::snprintf(text, sizeof text, format, x);
  return text;
}

std::vector<std::string> override_paths(const std::vector<TrialResult>& results) {
  // In the sweep's order (the leaderboard's rows are ranked): fixed keys, grid, random.
  std::vector<const TrialResult*> by_index;
  for (const TrialResult& r : results) by_index.push_back(&r);
  std::sort(by_index.begin(), by_index.end(), [](const TrialResult* a, const TrialResult* b) {
    return a->trial.index < b->trial.index;
  });
  std::vector<std::string> paths;
  for (const TrialResult* r : by_index)
    for (const Override& o : r->trial.overrides)
      if (std::find(paths.begin(), paths.end(), o.path) == paths.end()) paths.push_back(o.path);
  return paths;
}

std::string value_text(const TrialResult& r, const std::string& path) {
  for (const Override& o : r.trial.overrides)
    if (o.path == path) return o.value.is_string() ? o.value.get<std::string>() : o.value.dump();
  return "";
}

std::vector<std::vector<std::string>> rows(const std::vector<TrialResult>& results,
                                           bool with_error) {
  const std::vector<std::string> paths = override_paths(results);
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> header = {"rank", "trial"};
  header.insert(header.end(), paths.begin(), paths.end());
  for (const char* c : {"status", "val_accuracy", "best_val_accuracy", "val_loss", "best_val_loss",
                        "epochs", "seconds"})
    header.emplace_back(c);
  if (with_error) header.emplace_back("error");
  out.push_back(header);
  for (size_t i = 0; i < results.size(); ++i) {
    const TrialResult& r = results[i];
    std::vector<std::string> row = {std::to_string(i + 1), r.trial.name};
    for (const std::string& p : paths) row.push_back(value_text(r, p));
    row.push_back(r.status);
    if (r.has_metrics) {
      row.push_back(number(r.val_accuracy, "%.6f"));
      row.push_back(number(r.best_val_accuracy, "%.6f"));
      row.push_back(number(r.val_loss, "%.6f"));
      row.push_back(number(r.best_val_loss, "%.6f"));
      row.push_back(std::to_string(r.epochs));
      row.push_back(number(r.seconds, "%.2f"));
    } else {
      row.insert(row.end(), 6, "");
    }
    if (with_error) row.push_back(r.error);
    out.push_back(std::move(row));
  }
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

TrialResult read_trial_result(const fs::path& out_dir, const Trial& trial) {
  TrialResult r;
  r.trial = trial;
  const fs::path dir = out_dir / trial.name;
  if (!fs::is_directory(dir)) return r;
  const std::string code = read_text(dir / kExitCodeFile);
  if (!code.empty()) {
    try {
      r.exit_code = std::stoi(code);
    } catch (const std::exception&) {
      r.exit_code = -1;
    }
  }
  fill_from_metrics(r, dir);
  const auto summary = nlohmann::json::parse(read_text(dir / "summary.json"), nullptr, false);
  if (summary.is_object() && summary.contains("val_accuracy")) {
    r.status = "ok";
    r.has_metrics = true;
    const double nan =
        std::numeric_limits<double>::quiet_NaN();  // (NAN is a float: value() would round)
    r.val_accuracy = summary.value("val_accuracy", nan);
    r.val_loss = summary.value("val_loss", nan);
    r.best_val_accuracy = summary.value("best_val_accuracy", r.best_val_accuracy);
    r.epochs = summary.value("epochs", r.epochs);
    r.seconds = summary.value("seconds", r.seconds);
    return r;
  }
  if (r.exit_code == 3)
    r.status = "diverged";
  else if (!code.empty())
    r.status = "failed";
  else
    r.status = "incomplete";
  if (r.status != "incomplete") r.error = last_line(read_text(dir / kTrainLogFile));
  return r;
}

bool trial_finished(const TrialResult& result) {
  return result.status == "ok" || result.status == "diverged";
}

const std::vector<std::string>& leaderboard_metrics() {
  static const std::vector<std::string> metrics = {"val_accuracy", "best_val_accuracy", "val_loss",
                                                   "best_val_loss"};
  return metrics;
}

void check_metric(const std::string& metric) {
  const auto& m = leaderboard_metrics();
  if (std::find(m.begin(), m.end(), metric) == m.end())
    throw UserError("--metric " + metric +
                    ": expected val_accuracy, best_val_accuracy, val_loss or best_val_loss");
}

void sort_leaderboard(std::vector<TrialResult>& results, const std::string& metric) {
  check_metric(metric);
  auto value = [&](const TrialResult& r) {
    const double v = metric == "val_accuracy"        ? r.val_accuracy
                     : metric == "best_val_accuracy" ? r.best_val_accuracy
                     : metric == "val_loss"          ? -r.val_loss
                                                     : -r.best_val_loss;
    return std::isnan(v) ? -INFINITY : v;  // higher is better
  };
  std::stable_sort(results.begin(), results.end(), [&](const TrialResult& a, const TrialResult& b) {
    const int ra = status_rank(a.status), rb = status_rank(b.status);
    if (ra != rb) return ra < rb;
    if (a.status == "ok" && value(a) != value(b)) return value(a) > value(b);
    return a.trial.index < b.trial.index;
  });
}

std::string leaderboard_csv(const std::vector<TrialResult>& results) {
  std::string out;
  for (const auto& row : rows(results, true)) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i) out += ',';
      out += csv_field(row[i]);
    }
    out += "\n";
  }
  return out;
}

std::string leaderboard_table(const std::vector<TrialResult>& results) {
  const auto table = rows(results, false);
  std::vector<size_t> width(table.front().size(), 0);
  for (const auto& row : table)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  std::string out;
  for (const auto& row : table) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i) line += "  ";
      line += row[i] + std::string(width[i] - row[i].size(), ' ');
    }
    out += line.substr(0, line.find_last_not_of(' ') + 1) + "\n";
  }
  return out;
}

}  // namespace mnistnet
