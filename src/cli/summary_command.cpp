// mnistnet summary: the Keras table of a config's model, without touching any data.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "config/config_loader.h"
#include "model/summary_table.h"

namespace mnistnet {

int run_summary(const SummaryOptions& options) {
  const Config config = load_config(options.config, options.overrides);
  Model model = Model::build(config.model, 0);
  if (options.json) {
    nlohmann::json layers = nlohmann::json::array();
    for (const SummaryRow& row : model.summary_rows()) {
      nlohmann::json layer = {{"name", row.name},
                              {"type", row.type},
                              {"output_shape", row.output},
                              {"params", row.params}};
      if (!model.is_sequential()) layer["inputs"] = row.inputs;  // Keras's "Connected to"
      layers.push_back(layer);
    }
    const ParamCounts c = count_params(model);
    nlohmann::json augmentation = nlohmann::json::array();
    for (const AugmentLayer& a : config.data.augmentation) augmentation.push_back(a.type);
    nlohmann::json out = {{"name", config.name},
                          {"augmentation", augmentation},
                          {"layers", layers},
                          {"total_params", c.trainable + c.non_trainable},
                          {"trainable_params", c.trainable},
                          {"non_trainable_params", c.non_trainable},
                          {"forward_flops_per_image", model.forward_flops()}};
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::fputs(summary_table(model, config.name).c_str(), stdout);
    // The Random* layers are not in the model: say where they went.
    if (!config.data.augmentation.empty()) {
      std::string names;
      for (const AugmentLayer& a : config.data.augmentation)
        names += (names.empty() ? "" : ", ") + a.type;
      std::printf("Augmentation (the training input pipeline, not in the model): %s\n",
                  names.c_str());
    }
  }
  return 0;
}

}  // namespace mnistnet
