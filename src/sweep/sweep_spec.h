#pragma once
// Sweep files: which config key paths to vary and how, expanded into a fixed list of trials.
//
//   {
//     "description": "free text",
//     "fixed":  {"training.epochs": 3},                          // set in every trial
//     "grid":   {"training.batch_size": [64, 128],               // every combination, the
//                "model.layers.14.rate": [0.3, 0.5]},            // first key varying slowest
//     "random": {"trials": 20, "seed": 1, "params": {            // seeded random search
//                "training.lr_schedule.decay_rate": {"uniform": [0.6, 0.8]},
//                "training.optimizer.learning_rate": {"loguniform": [0.001, 0.03]},
//                "model.layers.1.filters": {"choice": [6, 12, 24]}}}
//   }
//
// A file has "grid", "random" or both (then the grid's trials come first, then the random
// ones). Keys are `--set` paths; keys keep the file's order. Every error names the sweep file
// and the JSON pointer: "sweeps/x.json: /random/params/seed.x: unknown distribution ...".
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mnistnet {

// One `--set path=value`; the value is JSON (a number, a string, a list ...).
struct Override {
  std::string path;      // "training.batch_size"
  nlohmann::json value;  // 64
};

// "training.batch_size=64": the argument `mnistnet train --set` takes.
std::string override_argument(const Override& o);

struct Distribution {
  std::string type;                    // "uniform", "loguniform" or "choice"
  double low = 0.0, high = 0.0;        // uniform, loguniform
  std::vector<nlohmann::json> values;  // choice
};

struct SweepSpec {
  std::string source;  // the sweep file, for messages
  std::string description;
  std::vector<Override> fixed;
  std::vector<std::pair<std::string, std::vector<nlohmann::json>>> grid;
  struct Random {
    int64_t trials = 0;
    uint64_t seed = 0;
    std::vector<std::pair<std::string, Distribution>> params;
  } random;
  // Where each key path was given, for error messages: path -> JSON pointer.
  std::vector<std::pair<std::string, std::string>> pointers;
};

// One training run of the sweep.
struct Trial {
  int index = 0;                    // position in the sweep, from 0
  std::string name;                 // "trial-003-1a2b3c4d": index and a hash of the overrides
  std::vector<Override> overrides;  // fixed, then the grid's or the random search's
};

// Reads and checks a sweep file's structure (types, distributions, non-empty lists).
SweepSpec load_sweep_spec(const std::filesystem::path& path);
SweepSpec parse_sweep_spec(const nlohmann::ordered_json& document, const std::string& source);

// The trials, in order; deterministic for a given file (random search draws from its seed).
std::vector<Trial> expand_trials(const SweepSpec& spec);

// The directory name of a trial: "trial-" + index (3 digits or more) + "-" + 8 hex digits
// of a hash of its override arguments.
std::string trial_name(int index, const std::vector<Override>& overrides);

// Loads the base config with each trial's overrides, so that a typo in a key path or a value
// the config rejects fails before anything runs. The error names the sweep file, the JSON
// pointer of the offending key and the config's own message.
void check_trials_against_config(const SweepSpec& spec, const std::vector<Trial>& trials,
                                 const std::string& base_config);

}  // namespace mnistnet
