#include "sweep/sweep_manifest.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/errors.h"

namespace mnistnet {
namespace fs = std::filesystem;

void write_manifest(const fs::path& out_dir, const SweepManifest& manifest) {
  nlohmann::json trials = nlohmann::json::array();
  for (const Trial& t : manifest.trials) {
    nlohmann::json overrides = nlohmann::json::array();
    for (const Override& o : t.overrides) overrides.push_back({o.path, o.value});
    trials.push_back({{"name", t.name}, {"overrides", overrides}});
  }
  const nlohmann::json doc = {{"config", manifest.config},
                              {"sweep", manifest.sweep},
                              {"metric", manifest.metric},
                              {"trials", trials}};
  write_file_atomically(out_dir / kManifestFile, doc.dump(2) + "\n");
}

SweepManifest read_manifest(const fs::path& out_dir) {
  const fs::path path = out_dir / kManifestFile;
  std::ifstream in(path);
  if (!in)
    throw UserError(path.string() + ": cannot open; is " + out_dir.string() +
                    " a sweep directory (written by mnistnet sweep --out or --emit)?");
  const auto doc = nlohmann::json::parse(in, nullptr, false);
  auto bad = [&](const std::string& what) { return UserError(path.string() + ": " + what); };
  if (!doc.is_object() || !doc.contains("trials") || !doc["trials"].is_array())
    throw bad("not a sweep manifest (expected an object with \"trials\")");
  SweepManifest m;
  m.config = doc.value("config", "");
  m.sweep = doc.value("sweep", "");
  m.metric = doc.value("metric", "val_accuracy");
  for (size_t i = 0; i < doc["trials"].size(); ++i) {
    const auto& t = doc["trials"][i];
    const std::string at = "/trials/" + std::to_string(i);
    if (!t.is_object() || !t.contains("name") || !t["name"].is_string() ||
        !t.contains("overrides") || !t["overrides"].is_array())
      throw bad(at + ": expected {\"name\": ..., \"overrides\": [[path, value], ...]}");
    Trial trial;
    trial.index = static_cast<int>(i);
    trial.name = t["name"].get<std::string>();
    if (trial.name.empty() || trial.name.find('/') != std::string::npos || trial.name[0] == '.')
      throw bad(at + "/name: expected a plain directory name");
    for (const auto& o : t["overrides"]) {
      if (!o.is_array() || o.size() != 2 || !o[0].is_string())
        throw bad(at + "/overrides: expected [path, value] pairs");
      trial.overrides.push_back({o[0].get<std::string>(), o[1]});
    }
    m.trials.push_back(std::move(trial));
  }
  return m;
}

bool is_sweep_dir(const fs::path& dir) { return fs::is_regular_file(dir / kManifestFile); }

}  // namespace mnistnet
