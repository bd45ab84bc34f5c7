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
  const fs::path link = fs::path("runs") / "latest";
  std::error_code ec;
  // Through the link to the run it names (runs/dense2/model.mnn): the user sees which run it is.
  fs::path run_dir = link;
  if (fs::is_symlink(link, ec)) {
    const fs::path target = fs::read_symlink(link, ec);
    if (!ec) run_dir = target.is_absolute() ? target : link.parent_path() / target;
  }
  if (auto model = find_run_model(run_dir)) return *model;
  const std::string where = fs::absolute(link).lexically_normal().string();
  const std::string why = !fs::exists(fs::symlink_status(link, ec)) ? " does not exist"
                          : fs::exists(run_dir, ec)
                              ? " -> " + run_dir.string() + " holds no model.mnn"
                              : " -> " + run_dir.string() + ", which does not exist";
  throw UserError("no --model given, and " + where + why +
                  " (train points runs/latest, in its working directory, at each finished run "
                  "under runs/); pass --model FILE, or train one first: scripts/train.sh --config "
                  "configs/dense2.json");
}

}  // namespace mnistnet
