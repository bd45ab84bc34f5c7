// mnistnet train: config -> model -> data -> fit -> run directory.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <tuple>

#include "cli/commands.h"
#include "cli/latest_run.h"
#include "config/config_loader.h"
#include "core/atomic_file.h"
#include "core/blas.h"
#include "core/denormals.h"
#include "core/errors.h"
#include "core/parallel_for.h"
#include "core/rng.h"
#include "data/data_source.h"
#include "model/model_file.h"
#include "report/report_writer.h"
#include "train/batch_logger.h"
#include "train/checkpoint.h"
#include "train/console_progress.h"
#include "train/csv_logger.h"
#include "train/early_stopping.h"
#include "train/signals.h"
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
    throw UserError(dir.string() + ": cannot create the run directory: " +
                    (ec ? ec.message() : "not a directory"));
}

nlohmann::json run_summary_json(const std::vector<EpochResult>& results, const fs::path& model_path,
                                const Config& config) {
  const EpochResult& last = results.back();
  double seconds = 0.0, best = 0.0;
  int best_epoch = 0;
  for (const EpochResult& r : results) {
    seconds += r.seconds;
    // 1-based, as the console's "Epoch 7/10" counts (metrics.csv's column is Keras's 0-based).
    if (r.val_accuracy > best) best = r.val_accuracy, best_epoch = r.epoch + 1;
  }
  return {{"config", config.name},       {"accuracy", last.accuracy},
          {"loss", last.loss},           {"val_accuracy", last.val_accuracy},
          {"val_loss", last.val_loss},   {"best_val_accuracy", best},
          {"best_epoch", best_epoch},    {"epochs", results.size()},
          {"seconds", seconds},          {"seed", config.seed},
          {"model", model_path.string()}};
}

// A new run never replaces a finished or resumable one by accident: that is a lost result.
void refuse_to_replace_run(const fs::path& run_dir, bool force) {
  if (force) return;
  std::error_code ec;
  if (fs::exists(run_dir / "summary.json", ec)) {
    std::string what;
    std::ifstream in(run_dir / "summary.json");
    const auto summary = nlohmann::json::parse(in, nullptr, false);
    if (summary.is_object() && summary.contains("val_accuracy") &&
        summary["val_accuracy"].is_number()) {
      char text[64];
      std::snprintf(text, sizeof text, ", val_accuracy %.4f",
                    summary["val_accuracy"].get<double>());
      what = text;
    }
    throw UserError(run_dir.string() + ": holds a finished run (summary.json" + what +
                    "); train into another --run-dir, or add --force to replace it");
  }
  if (!list_checkpoints(run_dir).empty())
    throw UserError(run_dir.string() +
                    ": holds an unfinished run (checkpoints); continue it with mnistnet train "
                    "--resume " +
                    run_dir.string() + ", or add --force to start it over");
}

// The config of a resumed run: the checkpoint's, or the one given (--config and/or --set),
// which must equal it unless --force.
Config resume_config(const TrainOptions& options, const Checkpoint& checkpoint,
                     const fs::path& run_dir) {
  const std::string saved_source = (run_dir / "config.json").string();
  Config given;
  if (!options.config.empty()) {
    given = load_config(options.config, options.overrides);
  } else {
    nlohmann::json document = checkpoint.config;
    for (const auto& o : options.overrides) apply_override(document, o, saved_source);
    given = parse_config(document, saved_source);
  }
  given.name = checkpoint.config_name;  // the run keeps its name (it is in the model file)
  const nlohmann::json diff = nlohmann::json::diff(checkpoint.config, given.resolved);
  if (!diff.empty() && !options.force) {
    const auto& first = diff.front();
    const std::string pointer = first.value("path", "");
    const nlohmann::json::json_pointer at(pointer);
    const std::string before =
        checkpoint.config.contains(at) ? checkpoint.config.at(at).dump() : "absent";
    const std::string after = given.resolved.contains(at) ? given.resolved.at(at).dump() : "absent";
    throw UserError(
        saved_source + ": " + (pointer.empty() ? "/" : pointer) + ": the run was trained with " +
        before + ", the given config has " + after +
        (diff.size() > 1 ? " (and " + std::to_string(diff.size() - 1) + " more differences)" : "") +
        "; resume with the run's config, or add --force to continue with the new one");
  }
  return given;
}

// The newest checkpoint of a run, read and checked.
Checkpoint newest_checkpoint(const fs::path& run_dir) {
  const std::vector<fs::path> all = list_checkpoints(run_dir);
  if (all.empty()) {
    throw UserError(run_dir.string() + ": no checkpoint to resume from (" +
                    checkpoint_dir(run_dir).string() + " holds no ckpt-*.ckpt file)");
  }
  try {
    return read_checkpoint(all.back());
  } catch (const CheckpointError& e) {
    if (all.size() < 2) throw;
    throw CheckpointError(std::string(e.what()) +
                          "; delete it to resume from the previous checkpoint " +
                          all[all.size() - 2].string());
  }
}

}  // namespace

int run_train(const TrainOptions& options) {
  flush_denormals_to_zero();
  if (options.config.empty() && options.resume.empty())
    throw UserError("train: --config FILE is required (or --resume RUN_DIR to continue a run)");
  if (!options.resume.empty() && !options.weights.empty())
    throw UserError(
        "train: --resume continues a run with its own weights and optimizer; --weights starts a "
        "new run from trained weights: give one of them");

  std::optional<Checkpoint> checkpoint;
  Config config;
  fs::path run_dir;
  if (!options.resume.empty()) {
    run_dir = options.resume;
    if (!options.run_dir.empty() &&
        fs::weakly_canonical(options.run_dir) != fs::weakly_canonical(run_dir))
      throw UserError("train: --run-dir " + options.run_dir + " and --resume " + options.resume +
                      " name different run directories");
    checkpoint = newest_checkpoint(run_dir);
    config = resume_config(options, *checkpoint, run_dir);
  } else {
    config = load_config(options.config, options.overrides);
    run_dir = choose_run_dir(options, config);
    refuse_to_replace_run(run_dir, options.force);
  }
  if (!options.data_dir.empty()) config.data.path = options.data_dir;
  Model model = Model::build(config.model, Rng::derive(config.seed, 1));
  set_parallel_threads(config.training.threads);

  if (!options.weights.empty()) {
    // A fresh optimizer on trained weights (a model file, or the weights of a checkpoint).
    if (fs::path(options.weights).extension() == ".ckpt") {
      const Checkpoint from = read_checkpoint(options.weights);
      set_weights(model, from.params, options.weights);
    } else {
      LoadedModel trained = load_model(options.weights);
      copy_weights(trained.model, model, options.weights);
    }
  }

  LoadedData loaded = load_data(config.data);
  check_data_fits_model(model, loaded.train, loaded.train.source);
  // With data.validation_split a seeded part of the training set validates and the test set
  // is evaluated once at the end (Keras's fit(validation_split) then evaluate); without it the
  // test set validates, as the codelab does.
  Dataset train, validation;
  if (config.data.validation_split > 0.0) {
    std::tie(train, validation) = split_validation(loaded.train, config.data.validation_split,
                                                   Rng::derive(config.seed, 0x5a117));
    if (validation.count == 0 || train.count == 0)
      throw ConfigError(config.source + ": /data/validation_split: " +
                        std::to_string(config.data.validation_split) + " of " +
                        std::to_string(loaded.train.count) +
                        " examples leaves an empty training or validation set");
  } else {
    if (!loaded.test)
      throw ConfigError(config.source + ": /data: " + loaded.location.path.string() +
                        " has no test split to validate on; set data.validation_split (or "
                        "data.test)");
    train = std::move(loaded.train);
    validation = std::move(*loaded.test);
    loaded.test.reset();
  }
  if (loaded.test) check_data_fits_model(model, *loaded.test, loaded.test->source);
  check_data_fits_model(model, validation, validation.source);
  const fs::path data_dir = loaded.location.path;

  prepare_run_dir(run_dir);
  write_file_atomically(run_dir / "config.json", config.resolved.dump(2) + "\n");

  const ModelMeta meta = model_meta_for(config.name, config.data, train);
  std::vector<TrainingObserver*> observers;
  const std::string& progress = config.output.progress;
  const bool show = !options.quiet && progress != "none";
  const bool bar = progress == "bar" || (progress == "auto" && ::isatty(STDOUT_FILENO));
  ConsoleProgress console(stdout,
                          bar ? ConsoleProgress::Style::bar : ConsoleProgress::Style::epoch);
  if (show) observers.push_back(&console);
  CsvLogger csv(run_dir / "metrics.csv");
  observers.push_back(&csv);
  BatchLogger batches(run_dir / "batches.csv");
  observers.push_back(&batches);
  ReportWriter report(run_dir, config.name, validation);  // report.html, refreshed every epoch
  observers.push_back(&report);
  std::optional<BestModelSaver> best;
  if (config.training.best_model.enabled) {
    best.emplace(config.training.best_model, run_dir / config.training.best_model.file, meta);
    observers.push_back(&*best);
  }

  if (show) {
    std::printf("Training %s on %s (%lld examples, validating on %lld) -> %s\n",
                config.name.c_str(), data_dir.string().c_str(), static_cast<long long>(train.count),
                static_cast<long long>(validation.count), run_dir.string().c_str());
    if (checkpoint) {
      std::printf("Resuming from %s: epoch %d, step %lld\n", checkpoint->source.c_str(),
                  checkpoint->progress.epoch + 1,
                  static_cast<long long>(checkpoint->progress.step));
    }
    std::fflush(stdout);
  }
  InterruptHandler interrupts;
  const FitResult result = fit(model, train, validation, config, observers,
                               {.run_dir = run_dir,
                                .run_name = config.name,
                                .resume = checkpoint ? &*checkpoint : nullptr,
                                .stop_request = &interrupts.requested()});
  if (result.interrupted_by != 0) {
    std::fflush(stdout);
    const std::string data = options.data_dir.empty() ? "" : " --data " + options.data_dir;
    std::fprintf(stderr,
                 "\nmnistnet: interrupted by %s at epoch %d, step %lld; saved %s\nResume with: "
                 "mnistnet train --resume %s%s\n",
                 signal_name(result.interrupted_by), result.epoch + 1,
                 static_cast<long long>(result.step), result.last_checkpoint.string().c_str(),
                 run_dir.string().c_str(), data.c_str());
    return 128 + result.interrupted_by;
  }
  if (show && result.stopped_epoch > 0)
    std::printf("Epoch %d: early stopping\n", result.stopped_epoch + 1);
  if (show && result.restored_best_weights)
    std::printf("Restoring model weights from the end of the best epoch: %d.\n",
                result.best_epoch + 1);

  const fs::path model_path = run_dir / config.output.model_file;
  save_model(model_path, model, meta);
  nlohmann::json summary = run_summary_json(result.history, model_path, config);
  if (loaded.test) {  // Keras's evaluate on the test set, once, with the final weights
    const Evaluation t = evaluate(model, *loaded.test, config.data.validation_batch_size,
                                  static_cast<float>(1.0 / config.data.pixel_divisor));
    summary["test_accuracy"] = t.accuracy;
    summary["test_loss"] = t.loss;
    if (show)
      std::printf("Test: %lld examples - test_loss: %.4f - test_accuracy: %.4f\n",
                  static_cast<long long>(t.count), t.loss, t.accuracy);
  }
  write_file_atomically(run_dir / "summary.json", summary.dump(2) + "\n");
  if (loaded.test) {  // the report's headline gets the test figures
    std::vector<int32_t> predicted;
    evaluate(model, validation, config.data.validation_batch_size,
             static_cast<float>(1.0 / config.data.pixel_divisor), &predicted);
    write_run_report(run_dir, model, config.name, validation, predicted);
  }
  mark_latest_run(run_dir);
  if (show) std::printf("Saved %s\n", model_path.string().c_str());
  return 0;
}

}  // namespace mnistnet
