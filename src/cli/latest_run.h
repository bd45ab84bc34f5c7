#pragma once
// The "latest run" convention: `train` points <runs>/latest at the run it finished, so that
// `mnistnet predict image.png` and `mnistnet eval` work right after training, as in a notebook.
#include <filesystem>
#include <optional>
#include <string>

namespace mnistnet {

// Replaces <parent of run_dir>/latest, atomically, with a relative symlink to run_dir.
// Failing to do so is not an error worth losing a run over: returns false instead.
bool mark_latest_run(const std::filesystem::path& run_dir);

// The model file of a finished run: summary.json's "model" (which records the path as seen
// from where `train` ran; the file sits in the run directory under that name), else
// model.mnn; nothing when neither exists.
std::optional<std::filesystem::path> find_run_model(const std::filesystem::path& run_dir);

// `given` when non-empty; else the model of runs/latest (its summary.json's "model", else
// model.mnn). A UserError telling how to train one when there is no finished run.
std::filesystem::path resolve_model_path(const std::string& given);

}  // namespace mnistnet
