#include "sweep/sweep_report.h"

#include <map>
#include <set>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "report/report_html.h"
#include "report/run_history.h"
#include "sweep/sweep_manifest.h"

namespace mnistnet {
namespace fs = std::filesystem;

namespace {

// The key paths whose values differ between the trials (fixed ones would only repeat).
std::set<std::string> varying_paths(const std::vector<TrialResult>& results) {
  std::map<std::string, std::set<std::string>> values;
  for (const TrialResult& r : results) {
    std::set<std::string> seen;
    for (const Override& o : r.trial.overrides) {
      values[o.path].insert(o.value.dump());
      seen.insert(o.path);
    }
    for (auto& [path, v] : values)
      if (!seen.count(path)) v.insert("(unset)");
  }
  std::set<std::string> varying;
  for (const auto& [path, v] : values)
    if (v.size() > 1) varying.insert(path);
  return varying;
}

// "trial-003-1a2b3c4d: batch_size=64 decay_rate=0.6": the last part of each varied key path.
std::string legend_name(const TrialResult& r, const std::set<std::string>& varying) {
  std::string name = r.trial.name + ":";
  for (const Override& o : r.trial.overrides) {
    if (!varying.count(o.path)) continue;
    const size_t dot = o.path.rfind('.');
    name += " " + (dot == std::string::npos ? o.path : o.path.substr(dot + 1)) + "=" +
            (o.value.is_string() ? o.value.get<std::string>() : o.value.dump());
  }
  return name;
}

}  // namespace

size_t write_sweep_report(const fs::path& out_dir, const std::vector<TrialResult>& ranked) {
  const std::set<std::string> varying = varying_paths(ranked);
  std::vector<RunHistory> runs;
  for (const TrialResult& r : ranked) {
    if (!r.has_metrics) continue;
    RunHistory h;
    try {
      // With batches.csv: the per-batch curves, thin and pale under the thick per-epoch ones.
      h = read_run_history(out_dir / r.trial.name);
    } catch (const UserError&) {
      continue;
    }
    h.name = legend_name(r, varying);
    runs.push_back(std::move(h));
  }
  write_file_atomically(out_dir / "report.html", render_comparison_html(runs));
  return runs.size();
}

size_t write_sweep_report(const fs::path& out_dir) {
  const SweepManifest manifest = read_manifest(out_dir);
  std::vector<TrialResult> results;
  for (const Trial& t : manifest.trials) results.push_back(read_trial_result(out_dir, t));
  sort_leaderboard(results, manifest.metric);
  return write_sweep_report(out_dir, results);
}

}  // namespace mnistnet
