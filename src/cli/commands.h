#pragma once
// The subcommands, free of any command-line library: main.cpp fills these options with CLI11
// and maps exceptions to exit codes. Each command returns its exit code.
#include <cstdint>
#include <string>
#include <vector>

namespace mnistnet {

struct TrainOptions {
  std::string config;
  std::vector<std::string> overrides;  // --set key.path=value
  std::string run_dir;                 // empty: the config's output.run_dir, else runs/<name>
  std::string data_dir;                // empty: the config's data.path, else the search order
  bool quiet = false;                  // no progress output
  std::string resume;                  // continue this run directory from its newest checkpoint
  std::string weights;                 // start from a trained model's weights, fresh optimizer
  bool force = false;                  // resume even though the config differs from the run's
};
int run_train(const TrainOptions& options);

struct EvalOptions {
  // Several: an ensemble (mean probabilities); none: the model of the latest run (runs/latest).
  std::vector<std::string> models;
  std::string data_dir;
  int64_t batch_size = 0;  // 0: the validation batch size the model trained with
  bool json = false;
};
int run_eval(const EvalOptions& options);

struct SummaryOptions {
  std::string config;
  std::vector<std::string> overrides;
  bool json = false;
};
int run_summary(const SummaryOptions& options);

struct BenchOptions {
  std::string config;
  std::vector<std::string> overrides;
  int64_t steps = 100;  // timed training steps
  int64_t warmup = 10;  // untimed steps first (first-step allocation, caches, threads)
  int threads = 0;      // threads of the maths; 0 = the config's, else all cores
  int64_t infer_batch = 1000;
  bool peak = false;     // also measure the machine's SGEMM peak
  std::string weights;   // start from a trained model's weights (same architecture)
  bool no_fold = false;  // inference without batch-norm folding (Model::set_batch_norm_folding)
  bool json = false;
};
int run_bench(const BenchOptions& options);

struct PredictOptions {
  std::vector<std::string> images;  // PNG, JPEG, BMP or PGM files
  std::vector<std::string> models;  // several: an ensemble; none: the latest run's model
  std::string dump_dir;             // write the 28x28 each image became here
  std::string csv;                  // classify this CSV's rows instead (Kaggle's test.csv)
  std::string out;                  // ... and write the submission (ImageId,Label) here
  bool json = false;
};
int run_predict(const PredictOptions& options);

struct ReportOptions {
  std::vector<std::string> run_dirs;  // one: its report.html; several: overlaid curves
  std::string out;                    // output file for several runs (default: report.html)
  std::string data_dir;
};
int run_report(const ReportOptions& options);

struct ExportOptions {
  std::string model;            // empty: the model of the latest run (runs/latest)
  std::string out;              // empty: the model file's path with .onnx
  std::string layout = "nchw";  // the input: "nchw" ([N, C, H, W]) or "nhwc" (mnistnet's own)
  int64_t opset = 17;
  bool quiet = false;
};
int run_export(const ExportOptions& options);

// mnistnet sweep: exit 0 when every trial finished (ok, or diverged), kSweepUnfinishedExit
// when some failed or have not run (the leaderboard is written either way).
inline constexpr int kSweepUnfinishedExit = 4;
struct SweepOptions {
  std::string config;                  // base config
  std::string grid;                    // sweep file (grid and/or random search)
  std::vector<std::string> overrides;  // --set key.path=value, fixed for every trial
  int jobs = 1;                        // trials at a time (Slurm: the array's %N throttle)
  bool jobs_given = false;
  int threads = 0;       // threads per trial; 0 = CPUs / jobs (Slurm: 1)
  std::string out;       // sweep directory (default: runs/<sweep file name>)
  std::string metric;    // leaderboard order (default: val_accuracy)
  std::string data_dir;  // passed to every trial as --data
  std::string emit;      // "slurm": write OUT/sweep.sbatch instead of running
  std::string collect;   // DIR: the leaderboard of DIR's finished trials
  bool quiet = false;
};
int run_sweep(const SweepOptions& options);

}  // namespace mnistnet
