#pragma once
// Config files: JSON -> Config, with `--set key.path=value` overrides applied before validation.
#include <string>
#include <vector>

#include "config/spec.h"

namespace mnistnet {

// Reads and validates a config file. Each override is "key.path=value", where value is JSON
// (a bare word that is not JSON counts as a string) and numeric path parts index lists
// ("model.layers.1.units=300"). Throws ConfigError naming the file and JSON pointer.
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});

// The same for config text already in memory; `source` names it in errors.
Config parse_config_text(const std::string& text, const std::string& source,
                         const std::vector<std::string>& overrides = {});

// Validates an already parsed document; `source` names it in errors.
Config parse_config(const nlohmann::json& document, const std::string& source);

// Applies one "key.path=value" override to a document.
void apply_override(nlohmann::json& document, const std::string& assignment,
                    const std::string& source);

// Reads the /model section alone (also used for the spec stored in model files).
ModelSpec parse_model_spec(const nlohmann::json& model, const std::string& source,
                           const std::string& pointer);

// Reads the /data section alone (also used for the reader settings stored in model files).
DataSpec parse_data_spec(const nlohmann::json& data, const std::string& source,
                         const std::string& pointer);

}  // namespace mnistnet
