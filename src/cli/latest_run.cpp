#include "cli/latest_run.h"

#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/errors.h"

namespace mnistnet {
namespace fs = std::filesystem;

bool mark_latest_run(const fs::path& run_dir) {
  const fs::path absolute = fs::absolute(run_dir).lexically_normal();
  const fs::path parent = absolute.parent_path();
  const fs::path link = parent / "latest";
  const fs::path tmp = parent / (".latest.tmp." + std::to_string(::getpid()));
  std::error_code ec;
  fs::remove(tmp, ec);
  fs::create_directory_symlink(absolute.filename(), tmp, ec);
  if (ec) return false;
  fs::rename(tmp, link, ec);  // rename(2) replaces the old link in one step
  if (ec) fs::remove(tmp, ec);
  return !ec;
}

fs::path resolve_model_path(const std::string& given) {
  if (!given.empty()) return given;
  const fs::path latest = fs::path("runs") / "latest";
  std::ifstream summary(latest / "summary.json");
  if (summary) {
    const auto json = nlohmann::json::parse(summary, nullptr, false);
    if (json.is_object() && json.contains("model") && json["model"].is_string()) {
      // The summary records the path as seen from where `train` ran; the file sits in the run.
      const fs::path model = latest / fs::path(json["model"].get<std::string>()).filename();
      if (fs::exists(model)) return model;
    }
  }
  if (fs::exists(latest / "model.mnn")) return latest / "model.mnn";
  throw UserError("no --model given and no finished run in runs/latest; train one first, e.g. "
                  "scripts/train.sh --config configs/conv_bn.json, or pass --model FILE");
}

}  // namespace mnistnet
