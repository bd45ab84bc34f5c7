#pragma once
// OUT/sweep.json: what a sweep directory holds, written before any trial runs, so that
// `mnistnet sweep --collect OUT` (after a Slurm array, or an interrupted sweep) knows every
// trial, finished or not, and its overrides.
//
//   {"config": "/abs/configs/conv_bn.json", "sweep": "/abs/configs/sweeps/x.json",
//    "metric": "val_accuracy", "trials": [{"name": "trial-000-1a2b3c4d",
//                                          "overrides": [["training.batch_size", 64], ...]}, ...]}
#include <filesystem>
#include <string>
#include <vector>

#include "sweep/sweep_spec.h"

namespace mnistnet {

struct SweepManifest {
  std::string config;  // the base config, absolute
  std::string sweep;   // the sweep file, absolute
  std::string metric;  // the leaderboard's sort key
  std::vector<Trial> trials;
};

inline constexpr const char* kManifestFile = "sweep.json";

void write_manifest(const std::filesystem::path& out_dir, const SweepManifest& manifest);

// A UserError naming the file when it is missing or not a sweep manifest.
SweepManifest read_manifest(const std::filesystem::path& out_dir);

bool is_sweep_dir(const std::filesystem::path& dir);

}  // namespace mnistnet
