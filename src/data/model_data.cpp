#include "data/model_data.h"

#include <system_error>

#include "core/errors.h"

namespace mnistnet {
namespace fs = std::filesystem;

Dataset load_evaluation_data(const ModelMeta& meta, const std::string& data_override,
                             const std::string& model_path) {
  DataSpec spec = data_spec_of(meta, model_path);
  spec.path = data_override;
  std::error_code ec;
  const bool file = !data_override.empty() && fs::is_regular_file(data_override, ec);
  if (file && spec.format == "idx") spec.format.clear();  // a file is never IDX's directory
  LoadedData data = load_data(spec, /*train=*/file);
  if (file) return std::move(data.train);
  if (!data.test)
    throw DataError(data.location.path.string() +
                    ": no labelled test split to evaluate on; give --data a labelled file or "
                    "directory");
  return std::move(*data.test);
}

}  // namespace mnistnet
