// mnistnet's entry point: command-line parsing and the mapping from errors to exit codes
// (0 success, 2 user error, 3 diverged, 1 internal failure). No logic lives here.
#include <CLI/CLI.hpp>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli/command_line_errors.h"
#include "cli/commands.h"
#include "cli/serve_command.h"
#include "core/cpu_blas_core.h"
#include "core/cpu_dispatch.h"
#include "core/errors.h"

namespace {

int print_error(const char* kind, const char* what, int code) {
  std::fflush(stdout);
  std::fprintf(stderr, "mnistnet: %s%s\n", kind, what);
  return code;
}

// An integer option of at least `min`. CLI11's Range prints "INT:INT in [1 - 2147483647]" in
// the help and calls "abc" "not in range"; this says what is wrong, and nothing in the help.
CLI::Validator integer_at_least(int64_t min) {
  return CLI::Validator(
      [min](std::string& text) -> std::string {
        const std::string expected = min == 1   ? "a positive integer"
                                     : min == 0 ? "a non-negative integer"
                                                : "an integer >= " + std::to_string(min);
        int64_t value = 0;
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, value);
        if (ptr != end || text.empty() ||
            (ec != std::errc() && ec != std::errc::result_out_of_range))
          return "\"" + text + "\" is not a number; expected " + expected;
        if (ec != std::errc() || value < min || value > INT32_MAX)
          return "expected " + expected + " up to " + std::to_string(INT32_MAX) + ", got " + text;
        return "";
      },
      "");
}

// The commands and their options, as the error explanations see them.
std::vector<mnistnet::CommandLineCommand> describe_commands(const CLI::App& app) {
  std::vector<mnistnet::CommandLineCommand> commands;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    mnistnet::CommandLineCommand c{sub->get_name(), {}};
    for (const CLI::Option* opt : sub->get_options()) {
      mnistnet::CommandLineOption o;
      for (const std::string& n : opt->get_snames()) o.names.push_back("-" + n);
      for (const std::string& n : opt->get_lnames()) o.names.push_back("--" + n);
      o.takes_value = opt->get_type_size_max() > 0;
      if (!o.names.empty()) c.options.push_back(std::move(o));
    }
    commands.push_back(std::move(c));
  }
  return commands;
}

}  // namespace

int main(int argc, char** argv) {
  mnistnet::select_blas_kernels(argv);  // may re-execute the program once, before anything runs
  CLI::App app{"mnistnet: train, evaluate and inspect neural networks on MNIST-style data"};
  // The version and the machine (CPU, BLAS core, kernels), for --version and `version`.
  const auto version_text = [] {
    return std::string("mnistnet ") + MNISTNET_VERSION + "\n" + mnistnet::machine_description();
  };
  app.set_version_flag("--version", version_text);
  app.require_subcommand(1);
  const CLI::Validator positive = integer_at_least(1);
  const CLI::Validator non_negative = integer_at_least(0);

  mnistnet::TrainOptions train;
  auto* train_cmd = app.add_subcommand("train", "Train a model from a JSON config");
  train_cmd->add_option("-c,--config", train.config, "Config file (JSON); optional with --resume")
      ->check(CLI::ExistingFile);
  train_cmd->add_option("--set", train.overrides,
                        "Override a config key: key.path=value (repeatable)");
  train_cmd->add_option("--run-dir", train.run_dir, "Run directory (default: runs/<config name>)");
  train_cmd->add_option("--data", train.data_dir, "Directory with the four IDX files");
  train_cmd->add_flag("-q,--quiet", train.quiet, "No progress output");
  train_cmd->add_option("--resume", train.resume, "Continue RUN_DIR from its newest checkpoint")
      ->check(CLI::ExistingDirectory);
  train_cmd
      ->add_option("--weights", train.weights,
                   "Start from a trained model's weights (.mnn or checkpoint), fresh optimizer")
      ->check(CLI::ExistingFile);
  train_cmd->add_flag("--force", train.force,
                      "Replace a finished run in the run directory; with --resume: continue even "
                      "if the config differs");

  mnistnet::EvalOptions eval;
  auto* eval_cmd = app.add_subcommand("eval", "Evaluate a saved model on the test set");
  eval_cmd
      ->add_option("-m,--model", eval.models,
                   "Model file (.mnn; default: the latest run's); several times: an ensemble "
                   "(mean probabilities)")
      ->allow_extra_args(false);  // one file per --model, so image files that follow stay images
  eval_cmd->add_option("--data", eval.data_dir, "Directory with the IDX files");
  eval_cmd->add_option("--batch-size", eval.batch_size, "Batch size (default: as in training)")
      ->check(positive);
  eval_cmd->add_flag("--json", eval.json, "Print one JSON object");

  mnistnet::SummaryOptions summary;
  auto* summary_cmd =
      app.add_subcommand("summary", "Print the Keras-style summary of a config's model");
  summary_cmd->add_option("-c,--config", summary.config, "Config file (JSON)")
      ->required()
      ->check(CLI::ExistingFile);
  summary_cmd->add_option("--set", summary.overrides,
                          "Override a config key: key.path=value (repeatable)");
  summary_cmd->add_flag("--json", summary.json, "Print JSON instead of the table");

  mnistnet::BenchOptions bench;
  auto* bench_cmd = app.add_subcommand(
      "bench", "Measure training and inference speed of a config's model (random data)");
  bench_cmd->add_option("-c,--config", bench.config, "Config file (JSON)")
      ->required()
      ->check(CLI::ExistingFile);
  bench_cmd->add_option("--set", bench.overrides,
                        "Override a config key: key.path=value (repeatable)");
  bench_cmd->add_option("--steps", bench.steps, "Timed training steps")->check(positive);
  bench_cmd->add_option("--warmup", bench.warmup, "Untimed steps first")->check(non_negative);
  bench_cmd
      ->add_option("--threads", bench.threads,
                   "Threads (default: the config's training.threads, else all cores)")
      ->check(non_negative);
  bench_cmd->add_option("--infer-batch", bench.infer_batch, "Inference batch size")
      ->check(positive);
  bench_cmd->add_flag("--peak", bench.peak, "Also measure the SGEMM peak of this machine");
  bench_cmd->add_option("--weights", bench.weights, "Start from a trained model's weights (.mnn)");
  bench_cmd->add_flag("--no-fold", bench.no_fold,
                      "Inference runs batch norms as ops of their own (no folding into the conv)");
  bench_cmd->add_flag("--json", bench.json, "Print one JSON object");

  mnistnet::PredictOptions predict;
  auto* predict_cmd =
      app.add_subcommand("predict", "Recognise the digits in image files (PNG, JPEG, BMP, PGM)");
  predict_cmd->add_option("images", predict.images, "Image files");
  predict_cmd->add_option("--csv", predict.csv, "Classify the rows of a CSV (Kaggle's test.csv)");
  predict_cmd->add_option("--out", predict.out, "With --csv: write ImageId,Label here");
  predict_cmd
      ->add_option("-m,--model", predict.models,
                   "Model file (.mnn; default: the latest run's); several times: an "
                   "ensemble (mean probabilities)")
      ->allow_extra_args(false);  // one file per --model, so image files that follow stay images
  predict_cmd->add_option("--dump-preprocessed", predict.dump_dir,
                          "Write the 28x28 input of each image to DIR");
  predict_cmd->add_flag("--json", predict.json, "Print a JSON array");

  mnistnet::ReportOptions report;
  auto* report_cmd =
      app.add_subcommand("report", "Write report.html for a run, or overlay several runs' curves");
  report_cmd->add_option("runs", report.run_dirs, "Run directories")
      ->required()
      ->check(CLI::ExistingDirectory);
  report_cmd->add_option(
      "-o,--out", report.out,
      "Output file when comparing several runs (default: comparison.html in their parent)");
  report_cmd->add_option("--data", report.data_dir, "Directory with the IDX files");

  mnistnet::SweepOptions sweep;
  auto* sweep_cmd =
      app.add_subcommand("sweep", "Train a grid or random search of config variants; rank them");
  sweep_cmd->add_option("-c,--config", sweep.config, "Base config file (JSON)")
      ->check(CLI::ExistingFile);
  sweep_cmd
      ->add_option("--grid", sweep.grid,
                   "Sweep file (JSON): grid values and/or random distributions per key path")
      ->check(CLI::ExistingFile);
  sweep_cmd->add_option("--set", sweep.overrides,
                        "Override a config key in every trial: key.path=value (repeatable)");
  auto* jobs_opt =
      sweep_cmd->add_option("-j,--jobs", sweep.jobs, "Trials at a time (Slurm: array throttle)")
          ->check(positive);
  sweep_cmd
      ->add_option("--threads", sweep.threads, "Threads per trial (default: CPUs / jobs; Slurm: 1)")
      ->check(positive);
  sweep_cmd->add_option("-o,--out", sweep.out, "Sweep directory (default: runs/<sweep file name>)");
  sweep_cmd->add_option(
      "--metric", sweep.metric,
      "Leaderboard order: val_accuracy, best_val_accuracy, val_loss, best_val_loss");
  sweep_cmd->add_option("--data", sweep.data_dir,
                        "Directory with the four IDX files (passed to every trial)");
  sweep_cmd->add_option("--emit", sweep.emit, "Write a job script instead of running: slurm");
  sweep_cmd
      ->add_option("--collect", sweep.collect,
                   "Build the leaderboard of a sweep directory's finished trials")
      ->check(CLI::ExistingDirectory);
  sweep_cmd->add_flag("-q,--quiet", sweep.quiet, "No progress output or table");

  mnistnet::ExportOptions export_options;
  auto* export_cmd = app.add_subcommand("export", "Write a saved model as an ONNX file");
  export_cmd->add_option("-m,--model", export_options.model,
                         "Model file (.mnn; default: the latest run's)");
  export_cmd->add_option("-o,--out", export_options.out,
                         "ONNX file to write (default: the model file's path with .onnx)");
  export_cmd->add_option("--layout", export_options.layout,
                         "Input layout: nchw ([N, C, H, W], default) or nhwc ([N, H, W, C])");
  export_cmd->add_option("--opset", export_options.opset, "ONNX opset, 13 to 17 (default: 17)");
  export_cmd->add_flag("-q,--quiet", export_options.quiet, "Print nothing");
  mnistnet::ServeOptions serve;
  auto* serve_cmd = app.add_subcommand(
      "serve", "Serve a model over TensorFlow Serving's REST API (predict, classify, metrics)");
  serve_cmd->add_option("-m,--model", serve.model, "Model file (.mnn; default: the latest run's)");
  serve_cmd->add_option("--name", serve.name, "Model name in URLs (default: the model's name)");
  serve_cmd->add_option("--host", serve.host, "Address to listen on (default 127.0.0.1)");
  serve_cmd->add_option("--port", serve.port, "Port (default 8501; 0: any free port)")
      ->check(CLI::Range(0, 65535));
  serve_cmd->add_option("--threads", serve.threads, "Threads of the maths (default: all cores)")
      ->check(non_negative);
  serve_cmd->add_option("--max-batch", serve.max_batch, "Most examples per forward pass")
      ->check(positive);
  serve_cmd
      ->add_option("--batch-timeout-us", serve.batch_timeout_us,
                   "Longest wait for more requests to batch with the first (default 0)")
      ->check(non_negative);
  serve_cmd->add_option("--connections", serve.connections, "Clients served at once (default 64)")
      ->check(positive);
  serve_cmd->add_option("--max-body-bytes", serve.max_body_bytes, "Largest request body")
      ->check(positive);
  serve_cmd
      ->add_option("--client-timeout-ms", serve.client_timeout_ms,
                   "Read/write deadline for a slow client (default 5000)")
      ->check(positive);
  serve_cmd
      ->add_option("--watch-ms", serve.watch_ms,
                   "Check the model file for a change this often (0: only on SIGHUP)")
      ->check(non_negative);
  // `mnistnet help [COMMAND]` and `mnistnet version`, as git and cargo have them.
  std::string help_topic;
  auto* help_cmd = app.add_subcommand("help", "Print this help, or a command's: help COMMAND");
  help_cmd->add_option("command", help_topic, "The command");
  auto* version_cmd = app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
    sweep.jobs_given = jobs_opt->count() > 0;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    const std::vector<std::string> args(argv + 1, argv + argc);
    return print_error(
        "error: ", explain_command_line(describe_commands(app), args, e.what()).c_str(), 2);
  }
  if (*version_cmd) return std::printf("%s\n", version_text().c_str()) < 0 ? 1 : 0;
  if (*help_cmd) {
    const CLI::App* topic = &app;  // (app.help() would describe the selected command: help)
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      if (sub->get_name() == help_topic) topic = sub;
    if (topic == &app && !help_topic.empty())
      return print_error(
          "error: ",
          explain_command_line(describe_commands(app), {help_topic}, "unknown command").c_str(), 2);
    const std::string text = app.get_formatter()->make_help(topic, "", CLI::AppFormatMode::Normal);
    return std::printf("%s", text.c_str()) < 0 ? 1 : 0;
  }

  try {
    if (*train_cmd) return mnistnet::run_train(train);
    if (*eval_cmd) return mnistnet::run_eval(eval);
    if (*summary_cmd) return mnistnet::run_summary(summary);
    if (*bench_cmd) return mnistnet::run_bench(bench);
    if (*predict_cmd) return mnistnet::run_predict(predict);
    if (*report_cmd) return mnistnet::run_report(report);
    if (*sweep_cmd) return mnistnet::run_sweep(sweep);
    if (*export_cmd) return mnistnet::run_export(export_options);
    if (*serve_cmd) return mnistnet::run_serve(serve);
  } catch (const mnistnet::UserError& e) {
    return print_error("error: ", e.what(), 2);
  } catch (const mnistnet::DivergenceError& e) {
    return print_error("training diverged: ", e.what(), 3);
  } catch (const std::bad_alloc&) {
    return print_error("internal error: ", "out of memory", 1);
  } catch (const std::exception& e) {
    return print_error("internal error: ", e.what(), 1);
  }
  return 1;
}
