#pragma once
// A scratch directory with a small synthetic data set, a tiny dense config and helpers to run
// the real binary (from inside the scratch directory, so stray files would show).

#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include "cli_runner.h"
#include "core/rng.h"
#include "synthetic_idx.h"
#include "text_file.h"

namespace mnistnet::testing {

inline const char* kSweepBaseConfig = R"({
  "seed": 5,
  "data": {"shuffle_buffer": 100, "validation_batch_size": 60, "prefetch": 1},
  "model": {"input_shape": [28, 28, 1], "layers": [
    {"type": "Flatten"},
    {"type": "Dense", "units": 8, "activation": "relu"},
    {"type": "Dropout", "rate": 0.2},
    {"type": "Dense", "units": 10, "activation": "softmax"}]},
  "training": {"epochs": 2, "batch_size": 20, "optimizer": {"type": "adam", "learning_rate": 0.01}},
  "output": {"progress": "epoch"}
})";

struct SweepFixture {
  TempDir dir;
  std::filesystem::path data = dir.path / "data";
  std::filesystem::path work = dir.path / "work";  // the commands' working directory
  std::string config;

  explicit SweepFixture(int64_t train_count = 200, int64_t test_count = 60) {
    std::filesystem::create_directories(data);
    write_band_split(data, "train", train_count, 1);
    write_band_split(data, "t10k", test_count, 2);
    std::filesystem::create_directories(work);
    config = write_text(dir.path, "base.json", kSweepBaseConfig);
  }

  std::string sweep_file(const std::string& name, const std::string& text) const {
    return write_text(dir.path, name, text);
  }

  // "--config C --grid GRID --out OUT --data D": a sweep of the base config on the fixture's data.
  std::string sweep_args(const std::string& grid, const std::filesystem::path& out) const {
    return "--config '" + config + "' --grid '" + grid + "' --out '" + out.string() + "' --data '" +
           data.string() + "'";
  }

  // Runs `mnistnet ARGS` with the working directory `work`.
  CliResult run(const std::string& args) const { return run_cli(args, dir.path, work); }
};

// The names in a directory.
inline std::set<std::string> entries(const std::filesystem::path& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    names.insert(e.path().filename().string());
  return names;
}

// A leaderboard without its seconds column (training time differs from run to run).
inline std::string without_seconds_column(const std::string& csv) {
  std::istringstream in(csv);
  std::string line, out;
  int seconds_column = -1;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream parts(line);
    std::string field;
    while (std::getline(parts, field, ',')) fields.push_back(field);
    if (!line.empty() && line.back() == ',') fields.emplace_back();
    if (seconds_column < 0)
      for (size_t i = 0; i < fields.size(); ++i)
        if (fields[i] == "seconds") seconds_column = static_cast<int>(i);
    for (size_t i = 0; i < fields.size(); ++i)
      if (static_cast<int>(i) != seconds_column) out += fields[i] + ",";
    out += "\n";
  }
  return out;
}

}  // namespace mnistnet::testing
