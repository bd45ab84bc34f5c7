// mnistnet report: one run -> RUN/report.html and RUN/predictions.png from the run's files and
// model; several runs -> one page overlaying their curves (their logs only, no model needed).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/commands.h"
#include "cli/latest_run.h"
#include "core/atomic_file.h"
#include "core/denormals.h"
#include "core/errors.h"
#include "data/model_data.h"
#include "model/model_file.h"
#include "report/report_html.h"
#include "report/report_writer.h"
#include "report/run_history.h"
#include "sweep/sweep_manifest.h"
#include "sweep/sweep_report.h"
#include "train/trainer.h"

namespace mnistnet {
namespace fs = std::filesystem;

namespace {

fs::path run_model_path(const fs::path& run_dir) {
  if (auto model = find_run_model(run_dir)) return *model;
  throw UserError(run_dir.string() +
                  ": no model file (model.mnn) in the run directory; has the run finished? "
                  "(to compare curves without models, give several run directories)");
}

void report_one_run(const fs::path& run_dir, const ReportOptions& options) {
  // Read the logs first: a directory that is not a run fails fast, before the model and data load.
  (void)read_run_history(run_dir);
  LoadedModel loaded = load_model(run_model_path(run_dir));
  const Dataset validation =
      load_evaluation_data(loaded.meta, options.data_dir, run_model_path(run_dir).string());
  check_data_fits_model(loaded.model, validation, validation.source);
  std::vector<int32_t> predicted;
  evaluate(loaded.model, validation, loaded.meta.validation_batch_size,
           static_cast<float>(1.0 / loaded.meta.pixel_divisor), &predicted);
  write_run_report(run_dir, loaded.model, loaded.meta.name, validation, predicted);
  std::printf("Wrote %s and %s\n", (run_dir / "report.html").string().c_str(),
              (run_dir / "predictions.png").string().c_str());
}

// The deepest directory holding all of `dirs` (runs/a, runs/b -> runs; a, b -> .).
fs::path common_parent(const std::vector<std::string>& dirs) {
  std::vector<fs::path> parents;
  for (const std::string& d : dirs) {
    fs::path p = fs::path(d).lexically_normal();
    if (p.filename().empty()) p = p.parent_path();  // "runs/a/"
    parents.push_back(p.parent_path());
  }
  fs::path common = parents.front();
  for (const fs::path& p : parents) {
    fs::path shared;
    for (auto a = common.begin(), b = p.begin(); a != common.end() && b != p.end() && *a == *b;
         ++a, ++b)
      shared /= *a;
    common = shared;
  }
  return common.empty() ? fs::path(".") : common;
}

void report_comparison(const ReportOptions& options) {
  std::vector<RunHistory> runs;
  std::set<std::string> names;
  bool clash = false;
  for (const std::string& dir : options.run_dirs) {
    runs.push_back(read_run_history(dir));
    clash |= !names.insert(runs.back().name).second;
  }
  // Two runs named alike (runs/a/s42, runs/b/s42) go by their paths instead.
  if (clash)
    for (size_t i = 0; i < runs.size(); ++i)
      runs[i].name = fs::path(options.run_dirs[i]).lexically_normal().string();
  // Beside the runs (their common parent directory), not wherever the command happened to run.
  const fs::path out = options.out.empty() ? common_parent(options.run_dirs) / "comparison.html"
                                           : fs::path(options.out);
  write_file_atomically(out, render_comparison_html(runs));
  std::printf("Wrote %s (%zu runs)\n", out.string().c_str(), runs.size());
}

}  // namespace

int run_report(const ReportOptions& options) {
  if (options.run_dirs.empty())
    throw UserError("report: give one run directory, or several to compare");
  if (options.run_dirs.size() == 1 && is_sweep_dir(options.run_dirs[0])) {
    // A sweep directory: its trials' curves overlaid, in leaderboard order.
    const fs::path dir = options.run_dirs[0];
    if (!options.out.empty())
      throw UserError("--out is for comparing runs; a sweep's page is " +
                      (dir / "report.html").string());
    const size_t shown = write_sweep_report(dir);
    std::printf("Wrote %s (%zu trials)\n", (dir / "report.html").string().c_str(), shown);
    return 0;
  }
  if (options.run_dirs.size() == 1) {
    if (!options.out.empty())
      throw UserError("--out is for comparing several runs; one run's report is written to " +
                      (fs::path(options.run_dirs[0]) / "report.html").string());
    flush_denormals_to_zero();
    report_one_run(options.run_dirs[0], options);
    return 0;
  }
  report_comparison(options);
  return 0;
}

}  // namespace mnistnet
