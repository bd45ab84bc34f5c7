// libFuzzer target: the bytes of a model file (.mnn) -> a model, which then predicts one example.
// Each input is loaded as it is (exercising the magic, version and checksum checks) and again with
// its trailing CRC-32 recomputed, so mutations get past the checksum into the header and the
// parameters. Only ModelFileError (a UserError) may come out.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/errors.h"
#include "model/model_file.h"

namespace {

// Layer arguments (units, filters, kernel sizes, input shape) decide how much memory building
// the model takes, and legal values can ask for gigabytes: that is a property of the config,
// not of the file format, so inputs whose model section multiplies out to more than 2^24 are
// skipped rather than reported as out-of-memory crashes.
bool model_is_small(const nlohmann::json& value, double& product) {
  if (value.is_number_integer() || value.is_number_unsigned()) {
    const double x = value.get<double>();
    if (x > 1) product *= x;
  } else if (value.is_structured()) {
    for (const auto& item : value)
      if (!model_is_small(item, product)) return false;
  }
  return product <= double(1 << 24);
}

bool small_enough(const std::string& bytes) {
  if (bytes.size() < 16) return true;
  uint32_t length = 0;
  std::memcpy(&length, bytes.data() + 12, 4);
  if (length > bytes.size() - 16) return true;  // the loader refuses it before building
  const auto header = nlohmann::json::parse(bytes.substr(16, length), nullptr, false);
  if (!header.is_object() || !header.contains("model")) return true;
  double product = 1;
  return model_is_small(header["model"], product);
}

void load(const std::string& bytes) {
  if (!small_enough(bytes)) return;
  try {
    mnistnet::LoadedModel loaded = mnistnet::load_model_from_bytes(bytes, "fuzz.mnn");
    const int64_t inputs = loaded.model.input_size();
    if (inputs <= (int64_t{1} << 16)) {
      const std::vector<float> x(static_cast<size_t>(inputs), 0.5f);
      (void)loaded.model.predict(x.data(), 1);
    }
    (void)loaded.model.summary_rows();
  } catch (const mnistnet::UserError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  load(bytes);
  if (bytes.size() >= 4) {
    const uint32_t crc = static_cast<uint32_t>(crc32(
        0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size() - 4)));
    std::memcpy(bytes.data() + bytes.size() - 4, &crc, 4);
    load(bytes);
  }
  return 0;
}
