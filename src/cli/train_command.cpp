// mnistnet train: config -> model -> data -> fit -> run directory.
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/latest_run.h"
#include "core/denormals.h"
#include "config/config_loader.h"
#include "core/atomic_file.h"
#include "core/blas.h"
#include "core/parallel_for.h"
#include "core/errors.h"
#include "core/rng.h"
#include "data/data_locator.h"
#include "model/model_file.h"
#include "train/console_progress.h"
#include "report/report_writer.h"
#include "train/batch_logger.h"
#include "train/csv_logger.h"
#include "train/trainer.h"

namespace mnistnet {
namespace fs = std::filesystem;

namespace {

fs::path choose_run_dir(const TrainOptions& options, const Config& config) {
  if (!options.run_dir.empty()) return options.run_dir;
  if (!config.output.run_dir.empty()) return config.output.run_dir;
  return fs::path("runs") / config.name;
}

void prepare_run_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw UserError(dir.string() + ": cannot create the run directory: " + (ec ? ec.message() : "not a directory"));
}

nlohmann::json run_summary_json(const std::vector<EpochResult>& results, const fs::path& model_path,
                                 const Config& config) {
  const EpochResult& last = results.back();
  double seconds = 0.0, best = 0.0;
  int best_epoch = 0;
  for (const EpochResult& r : results) {
    seconds += r.seconds;
    if (r.val_accuracy > best) best = r.val_accuracy, best_epoch = r.epoch;
  }
  return {{"config", config.name},
          {"accuracy", last.accuracy},
          {"loss", last.loss},
          {"val_accuracy", last.val_accuracy},
          {"val_loss", last.val_loss},
          {"best_val_accuracy", best},
          {"best_epoch", best_epoch},
          {"epochs", results.size()},
          {"seconds", seconds},
          {"seed", config.seed},
          {"model", model_path.string()}};
}

}  // namespace

int run_train(const TrainOptions& options) {
  flush_denormals_to_zero();
  Config config = load_config(options.config, options.overrides);
  if (!options.data_dir.empty()) config.data.path = options.data_dir;
  Model model = Model::build(config.model, Rng::derive(config.seed, 1));
  set_parallel_threads(config.training.threads);

  const fs::path data_dir = find_dataset_dir(config.data.dataset, config.data.path);
  const Dataset train = load_split(data_dir, "train");
  const Dataset validation = load_split(data_dir, "t10k");
  check_data_fits_model(model, train, (data_dir / "train").string());
  check_data_fits_model(model, validation, (data_dir / "t10k").string());

  const fs::path run_dir = choose_run_dir(options, config);
  prepare_run_dir(run_dir);
  write_file_atomically(run_dir / "config.json", config.resolved.dump(2) + "\n");

  std::vector<TrainingObserver*> observers;
  const std::string& progress = config.output.progress;
  const bool show = !options.quiet && progress != "none";
  const bool bar = progress == "bar" || (progress == "auto" && ::isatty(STDOUT_FILENO));
  ConsoleProgress console(stdout, bar ? ConsoleProgress::Style::bar : ConsoleProgress::Style::epoch);
  if (show) observers.push_back(&console);
  CsvLogger csv(run_dir / "metrics.csv");
  observers.push_back(&csv);
  BatchLogger batches(run_dir / "batches.csv");
  observers.push_back(&batches);
  ReportWriter report(run_dir, config.name, validation);  // report.html, refreshed every epoch
  observers.push_back(&report);

  if (show) {
    std::printf("Training %s on %s (%lld examples, validating on %lld) -> %s\n", config.name.c_str(),
                data_dir.string().c_str(), static_cast<long long>(train.count),
                static_cast<long long>(validation.count), run_dir.string().c_str());
    std::fflush(stdout);
  }
  const std::vector<EpochResult> results = fit(model, train, validation, config, observers);

  const fs::path model_path = run_dir / config.output.model_file;
  save_model(model_path, model,
             {config.name, config.data.dataset, config.data.pixel_divisor, config.data.validation_batch_size});
  write_file_atomically(run_dir / "summary.json", run_summary_json(results, model_path, config).dump(2) + "\n");
  mark_latest_run(run_dir);
  if (show) std::printf("Saved %s\n", model_path.string().c_str());
  return 0;
}

}  // namespace mnistnet
