#include "model/model_file.h"

#include <zlib.h>

#include <bit>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "config/config_loader.h"
#include "config/json_fields.h"
#include "core/atomic_file.h"
#include "core/errors.h"
#include "data/data_source.h"

namespace mnistnet {
namespace {

static_assert(std::endian::native == std::endian::little, "model files are little-endian");

constexpr char kMagic[8] = {'M', 'N', 'I', 'S', 'T', 'N', 'E', 'T'};
constexpr uint32_t kVersion = 1;
constexpr size_t kFixedHeader = sizeof(kMagic) + 2 * sizeof(uint32_t);

void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }

uint32_t get_u32(const std::string& in, size_t offset) {
  uint32_t v;
  std::memcpy(&v, in.data() + offset, 4);
  return v;
}

uint32_t crc32_of(const std::string& bytes, size_t n) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(n)));
}

}  // namespace

nlohmann::json model_spec_to_json(const ModelSpec& spec) {
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerSpec& l : spec.layers) layers.push_back(l.args);
  return {{"input_shape", spec.input_shape}, {"layers", layers}};
}

std::string class_name(const ModelMeta& meta, int64_t index) {
  const auto i = static_cast<size_t>(index);
  if (i < meta.class_names.size()) return meta.class_names[i];
  const std::vector<std::string> known = known_class_names(meta.dataset);
  return i < known.size() ? known[i] : std::to_string(index);
}

namespace {

// The /data keys that choose and configure a reader, as JSON, for those that differ from a
// default DataSpec's.
nlohmann::json reader_json(const DataSpec& d) {
  const DataSpec base;
  nlohmann::json j = nlohmann::json::object();
  auto put = [&](const char* key, const auto& value, const auto& fallback) {
    if (value != fallback) j[key] = value;
  };
  put("format", d.format, base.format);
  put("train", d.train, base.train);
  put("test", d.test, base.test);
  put("transpose", d.transpose, base.transpose);
  put("label_offset", d.label_offset, base.label_offset);
  put("classes_file", d.classes_file, base.classes_file);
  put("label_column", d.label_column, base.label_column);
  put("image_shape", d.image_shape, base.image_shape);
  put("x_train", d.x_train, base.x_train);
  put("y_train", d.y_train, base.y_train);
  put("x_test", d.x_test, base.x_test);
  put("y_test", d.y_test, base.y_test);
  put("image_size", d.image_size, base.image_size);
  put("color_mode", d.color_mode, base.color_mode);
  put("validation_split", d.validation_split, base.validation_split);
  return j;
}

bool digit_names(const std::vector<std::string>& names) {
  if (names.size() != 10) return false;
  for (size_t i = 0; i < 10; ++i)
    if (names[i] != std::to_string(i)) return false;
  return true;
}

// A model is a digit model (predict prepares images as MNIST's digits) when it takes 28x28 grey
// images of the ten digits; its file need not say so.
ImagePreprocessing default_preprocessing(const ModelMeta& meta) {
  const std::vector<std::string> names =
      meta.class_names.empty() ? known_class_names(meta.dataset) : meta.class_names;
  const bool digits = meta.image.image_shape == Shape{28, 28, 1} &&
                      (digit_names(names) || (names.empty() && meta.dataset == "mnist"));
  return digits ? ImagePreprocessing::digits : ImagePreprocessing::resize;
}

}  // namespace

ModelMeta model_meta_for(const std::string& name, const DataSpec& data, const Dataset& train) {
  ModelMeta meta;
  meta.name = name;
  meta.dataset = data.dataset;
  meta.pixel_divisor = data.pixel_divisor;
  meta.validation_batch_size = data.validation_batch_size;
  if (train.class_names != known_class_names(data.dataset)) meta.class_names = train.class_names;
  meta.image.image_shape = {train.rows, train.cols, train.channels};
  meta.image.preprocessing = default_preprocessing(meta);
  meta.reader = reader_json(data);
  return meta;
}

DataSpec data_spec_of(const ModelMeta& meta, const std::string& source) {
  nlohmann::json j = meta.reader;
  j["dataset"] = meta.dataset;
  j["pixel_divisor"] = meta.pixel_divisor;
  j["validation_batch_size"] = meta.validation_batch_size;
  try {
    return parse_data_spec(j, source, "/data");
  } catch (const ConfigError& e) {
    throw ModelFileError(std::string("the model's data settings are invalid: ") + e.what());
  }
}

void save_model(const std::filesystem::path& path, Model& model, const ModelMeta& meta) {
  nlohmann::json params = nlohmann::json::array();
  size_t floats = 0;
  for (const ParamRef& p : model.params()) {
    params.push_back({{"name", p.name}, {"shape", p.shape}});
    floats += static_cast<size_t>(p.size());
  }
  nlohmann::json header = {{"model", model_spec_to_json(model.spec())},
                           {"data",
                            {{"name", meta.name},
                             {"dataset", meta.dataset},
                             {"pixel_divisor", meta.pixel_divisor},
                             {"validation_batch_size", meta.validation_batch_size},
                             {"class_names", meta.class_names}}},
                           {"params", params}};
  // Written only when they are not what an MNIST model has, so those files stay as they were.
  nlohmann::json& data = header["data"];
  const ImagePreparation& image = meta.image;
  if (image.image_shape != Shape{28, 28, 1}) data["image_shape"] = image.image_shape;
  if (image.preprocessing != default_preprocessing(meta))
    data["preprocessing"] = preprocessing_name(image.preprocessing);
  if (!meta.reader.empty()) data["reader"] = meta.reader;
  const std::string header_text = header.dump();

  std::string out;
  out.reserve(kFixedHeader + header_text.size() + floats * sizeof(float) + 4);
  out.append(kMagic, sizeof(kMagic));
  put_u32(out, kVersion);
  put_u32(out, static_cast<uint32_t>(header_text.size()));
  out += header_text;
  for (const ParamRef& p : model.params())
    out.append(reinterpret_cast<const char*>(p.value),
               static_cast<size_t>(p.size()) * sizeof(float));
  put_u32(out, crc32_of(out, out.size()));
  write_file_atomically(path, out);
}

LoadedModel load_model(const std::filesystem::path& path) {
  if (std::filesystem::is_directory(path))
    throw ModelFileError(path.string() + ": is a directory, expected a model file (.mnn)");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ModelFileError(path.string() + ": cannot open the model file" +
                         (std::filesystem::exists(path) ? "" : " (it does not exist)"));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return load_model_from_bytes(buffer.str(), path.string());
}

LoadedModel load_model_from_bytes(const std::string& bytes, const std::string& name) {
  const std::string where = name + ": ";

  if (bytes.size() < kFixedHeader + 4 || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
    throw ModelFileError(where +
                         "byte 0: not an mnistnet model file (expected the magic \"MNISTNET\")");
  const uint32_t version = get_u32(bytes, 8);
  if (version != kVersion) {
    throw ModelFileError(where + "byte 8: model format version " + std::to_string(version) +
                         ", this mnistnet reads version " + std::to_string(kVersion));
  }
  const size_t crc_at = bytes.size() - 4;
  if (crc32_of(bytes, crc_at) != get_u32(bytes, crc_at)) {
    throw ModelFileError(where + "checksum mismatch: the file is truncated or corrupt (" +
                         std::to_string(bytes.size()) + " bytes)");
  }
  const size_t header_length = get_u32(bytes, 12);
  if (header_length > crc_at - kFixedHeader)
    throw ModelFileError(where + "byte 12: header length " + std::to_string(header_length) +
                         " runs past the end of the file");

  const std::string header_text = bytes.substr(kFixedHeader, header_length);
  if (const size_t deep = json_too_deep_at(header_text); deep != std::string::npos) {
    throw ModelFileError(where + "byte " + std::to_string(kFixedHeader + deep) +
                         ": the header nests more than " + std::to_string(kMaxJsonDepth) +
                         " levels deep");
  }
  nlohmann::json header = nlohmann::json::parse(header_text, nullptr, false);
  if (header.is_discarded() || !header.is_object() || !header.contains("model") ||
      !header.contains("data") || !header.contains("params"))
    throw ModelFileError(where + "byte " + std::to_string(kFixedHeader) +
                         ": the header is not a valid model description");

  // The header's parameter list must account for exactly the bytes after it before anything is
  // built, so a small corrupt file cannot make the loader allocate what it does not hold.
  const nlohmann::json& listed = header["params"];
  const size_t available = crc_at - kFixedHeader - header_length;
  if (!listed.is_array())
    throw ModelFileError(where + "the header's \"params\" is " + describe_json(listed) +
                         ", expected a list");
  size_t listed_bytes = 0;
  for (size_t i = 0; i < listed.size(); ++i) {
    const nlohmann::json& h = listed[i];
    const nlohmann::json* shape = h.is_object() && h.contains("shape") ? &h["shape"] : nullptr;
    bool valid =
        h.is_object() && h.contains("name") && h["name"].is_string() && shape && shape->is_array();
    size_t n = sizeof(float);
    for (size_t d = 0; valid && d < shape->size(); ++d) {
      const nlohmann::json& x = (*shape)[d];
      valid =
          x.is_number_unsigned() && x.get<uint64_t>() >= 1 && x.get<uint64_t>() <= available / n;
      if (valid) n *= static_cast<size_t>(x.get<uint64_t>());
    }
    if (!valid || n > available - listed_bytes) {
      throw ModelFileError(where + "the header's parameter " + std::to_string(i) + " (" +
                           describe_json(h) + ") is not a name and shape that fits the " +
                           std::to_string(available) + " bytes of parameters in the file");
    }
    listed_bytes += n;
  }
  if (listed_bytes != available) {
    throw ModelFileError(where + "the header lists " + std::to_string(listed_bytes) +
                         " bytes of parameters, the file holds " + std::to_string(available));
  }

  LoadedModel loaded{
      [&] {
        try {
          return Model::build(parse_model_spec(header["model"], name, "/model"), 0);
        } catch (const ConfigError& e) {
          throw ModelFileError(std::string("invalid model description: ") + e.what());
        }
      }(),
      {}};
  try {
    const auto& data = header["data"];
    loaded.meta.name = data.at("name").get<std::string>();
    loaded.meta.dataset = data.at("dataset").get<std::string>();
    loaded.meta.pixel_divisor = data.at("pixel_divisor").get<double>();
    loaded.meta.validation_batch_size = data.at("validation_batch_size").get<int64_t>();
    if (data.contains("class_names"))
      loaded.meta.class_names = data.at("class_names").get<std::vector<std::string>>();
    if (data.contains("image_shape")) {
      loaded.meta.image.image_shape = data.at("image_shape").get<Shape>();
      const Shape& s = loaded.meta.image.image_shape;
      if (s.size() != 3 || s[0] < 1 || s[1] < 1 || s[0] > 4096 || s[1] > 4096 ||
          (s[2] != 1 && s[2] != 3))
        throw ModelFileError(where + "the header's image_shape " + shape_string(s) +
                             " is not [rows, cols, 1 or 3]");
    }
    loaded.meta.image.preprocessing = default_preprocessing(loaded.meta);
    if (data.contains("preprocessing")) {
      const std::string given = data.at("preprocessing").get<std::string>();
      const std::optional<ImagePreprocessing> preprocessing = parse_preprocessing(given);
      if (!preprocessing)
        throw ModelFileError(where + "the header's preprocessing \"" + given +
                             "\" is not \"digits\" or \"resize\"");
      loaded.meta.image.preprocessing = *preprocessing;
    }
    if (data.contains("reader")) {
      loaded.meta.reader = data.at("reader");
      if (!loaded.meta.reader.is_object())
        throw ModelFileError(where + "the header's data reader is not an object");
    }
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError(where + "the header's data section is invalid: " + e.what());
  }

  // The listed sizes add up to the bytes there are (checked above); set_weights checks the
  // names and shapes against the model.
  std::vector<NamedTensor> weights;
  size_t offset = kFixedHeader + header_length;
  for (const auto& h : listed) {
    NamedTensor w{h["name"].get<std::string>(), h["shape"].get<Shape>(), {}};
    w.values.resize(static_cast<size_t>(element_count(w.shape)));
    std::memcpy(w.values.data(), bytes.data() + offset, w.values.size() * sizeof(float));
    offset += w.values.size() * sizeof(float);
    weights.push_back(std::move(w));
  }
  set_weights(loaded.model, weights, name);
  return loaded;
}

}  // namespace mnistnet
