// libFuzzer target: the bytes of a CSV file -> a data set (Kaggle's layout), read as a training
// split (labels required) and as a prediction input. Only DataError (a UserError) may come out.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/errors.h"
#include "data/csv_source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  mnistnet::DataSpec spec;
  mnistnet::ReadOptions options;
  options.num_classes = size > 0 ? 1 + data[0] % 16 : 10;
  for (const bool labels : {true, false}) {
    try {
      const mnistnet::Dataset d =
          mnistnet::parse_csv_dataset(bytes, "fuzz.csv", spec, options, labels);
      if (d.pixels.size() != static_cast<size_t>(d.count * d.image_size())) __builtin_trap();
      if (!d.labels.empty() && d.labels.size() != static_cast<size_t>(d.count)) __builtin_trap();
      for (uint8_t l : d.labels)
        if (l >= options.num_classes) __builtin_trap();
    } catch (const mnistnet::UserError&) {
    }
  }
  return 0;
}
