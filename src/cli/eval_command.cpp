// mnistnet eval: a saved model on its data set's test split.
#include <cstdio>

#include "cli/commands.h"
#include "cli/latest_run.h"
#include "core/denormals.h"
#include "data/data_locator.h"
#include "model/model_file.h"
#include "train/trainer.h"

namespace mnistnet {

int run_eval(const EvalOptions& options) {
  flush_denormals_to_zero();
  const auto model_path = resolve_model_path(options.model);
  LoadedModel loaded = load_model(model_path);
  const auto data_dir = find_dataset_dir(loaded.meta.dataset, options.data_dir);
  const Dataset test = load_split(data_dir, "t10k");
  check_data_fits_model(loaded.model, test, (data_dir / "t10k").string());
  const int64_t batch =
      options.batch_size > 0 ? options.batch_size : loaded.meta.validation_batch_size;
  const Evaluation e =
      evaluate(loaded.model, test, batch, static_cast<float>(1.0 / loaded.meta.pixel_divisor));
  if (options.json) {
    nlohmann::json out = {{"accuracy", e.accuracy},
                          {"loss", e.loss},
                          {"count", e.count},
                          {"model", model_path.string()},
                          {"data", data_dir.string()}};
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("Model %s, test data %s\n", model_path.string().c_str(),
                (data_dir / "t10k").string().c_str());
    std::printf("%lld/%lld - loss: %.4f - accuracy: %.4f\n", static_cast<long long>(e.count),
                static_cast<long long>(e.count), e.loss, e.accuracy);
  }
  return 0;
}

}  // namespace mnistnet
