#pragma once
// The "latest run" convention: `train` points <runs>/latest at the run it finished, so that
// `mnistnet predict image.png` and `mnistnet eval` work right after training, as in a notebook.
#include <filesystem>
#include <string>

namespace mnistnet {

// Replaces <parent of run_dir>/latest, atomically, with a relative symlink to run_dir.
// Failing to do so is not an error worth losing a run over: returns false instead.
bool mark_latest_run(const std::filesystem::path& run_dir);

// `given` when non-empty; else the model of runs/latest (its summary.json's "model", else
// model.mnn). A UserError telling how to train one when there is no finished run.
std::filesystem::path resolve_model_path(const std::string& given);

}  // namespace mnistnet
