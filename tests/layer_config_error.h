#pragma once
// The ConfigError message of a model whose first layer is `layer` (a JSON object as text),
// followed by a softmax Dense; "(no error)" when it builds. For registry argument tests.
#include <nlohmann/json.hpp>
#include <string>

#include "config/config_loader.h"
#include "core/errors.h"
#include "model/model.h"

namespace mnistnet::testing {

inline std::string layer_config_error(const std::string& layer,
                                      const std::string& input_shape = "[784]") {
  try {
    Model::build(
        parse_model_spec(
            nlohmann::json::parse(R"({"input_shape": )" + input_shape + R"(, "layers": [)" + layer +
                                  R"(, {"type": "Dense", "units": 10, "activation": "softmax"}]})"),
            "t.json", "/model"),
        1);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace mnistnet::testing
