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

#include "data/dataset.h"
#include "image/model_image.h"
#include "model/model.h"
#include "model/weights.h"

namespace mnistnet {

// What eval and predict need to feed a saved model the way it was trained.
struct ModelMeta {
  std::string name;  // the config's name
  std::string dataset = "mnist";
  double pixel_divisor = 256.0;
  int64_t validation_batch_size = 10000;
  // Class names in output order; empty means the data set's known names (known_class_names:
  // MNIST's digits, Fashion-MNIST's clothes), else "0", "1", ... (and files that predate them).
  std::vector<std::string> class_names;
  // The images the model was trained on (image_shape, [rows, cols, channels]) and how predict
  // and serve prepare an image file for it (preprocessing, digits or resize).
  ImagePreparation image = {};
  // The reader settings of the config's /data (format, train, test, label_offset ...), so eval
  // reads the same kind of data; only the keys that differ from their defaults.
  nlohmann::json reader = nlohmann::json::object();
};

// The name of output `index`: meta.class_names[index], the data set's known name, or the index
// itself as text.
std::string class_name(const ModelMeta& meta, int64_t index);

// What a model trained with `data` on `train` records: names (empty when they are the data
// set's known ones, so MNIST models stay as they were), image shape, preprocessing, reader.
ModelMeta model_meta_for(const std::string& name, const DataSpec& data, const Dataset& train);

// The /data spec eval and predict --csv read with: the reader settings and dataset of `meta`.
DataSpec data_spec_of(const ModelMeta& meta, const std::string& source);

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
