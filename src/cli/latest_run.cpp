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

std::optional<fs::path> find_run_model(const fs::path& run_dir) {
  std::ifstream summary(run_dir / "summary.json");
  if (summary) {
    const auto json = nlohmann::json::parse(summary, nullptr, false);
    if (json.is_object() && json.contains("model") && json["model"].is_string()) {
      const fs::path model = run_dir / fs::path(json["model"].get<std::string>()).filename();
      if (fs::exists(model)) return model;
    }
  }
  if (fs::exists(run_dir / "model.mnn")) return run_dir / "model.mnn";
  return std::nullopt;
}

fs::path resolve_model_path(const std::string& given) {
  if (!given.empty()) return given;
  if (auto model = find_run_model(fs::path("runs") / "latest")) return *model;
  throw UserError(
      "no --model given and no finished run in runs/latest; train one first, e.g. "
      "scripts/train.sh --config configs/conv_bn.json, or pass --model FILE");
}

}  // namespace mnistnet
