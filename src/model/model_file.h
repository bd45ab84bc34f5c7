#pragma once
// Model files (.mnn): the model's spec, what evaluation needs to know about its data, and the
// parameters, guarded by a checksum.
//
// Layout (little-endian):
//   bytes 0..7   "MNISTNET"
//   u32          format version (1)
//   u32          header length H
//   H bytes      header JSON: {"model": spec, "data": {...}, "params": [{"name", "shape"}...]}
//   floats       every parameter in Model::params() order
//   u32          CRC-32 (zlib) of all the bytes before it
#include <filesystem>
#include <string>
#include <vector>

#include "model/model.h"
#include "model/weights.h"

namespace mnistnet {

// What eval and predict need to feed a saved model the way it was trained.
struct ModelMeta {
  std::string name;  // the config's name
  std::string dataset = "mnist";
  double pixel_divisor = 256.0;
  int64_t validation_batch_size = 10000;
  // Class names in output order; empty means the model file predates them: "0", "1", ...
  std::vector<std::string> class_names;
};

// The name of output `index`: meta.class_names[index], or the index itself as text.
std::string class_name(const ModelMeta& meta, int64_t index);

struct LoadedModel {
  Model model;
  ModelMeta meta;
};

nlohmann::json model_spec_to_json(const ModelSpec& spec);

// Written atomically. Throws UserError when the file cannot be written.
void save_model(const std::filesystem::path& path, Model& model, const ModelMeta& meta);

// Throws ModelFileError ("PATH: ...") for a missing, truncated or corrupt file, WeightsError
// when its weights do not fit its own model description.
LoadedModel load_model(const std::filesystem::path& path);

// The same for a model file's bytes already in memory; `name` stands for the path in errors.
LoadedModel load_model_from_bytes(const std::string& bytes, const std::string& name);

}  // namespace mnistnet
