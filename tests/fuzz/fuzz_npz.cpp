// libFuzzer target: the bytes of an .npz archive (zip of .npy arrays) -> both splits of a data
// set, as Keras's mnist.npz is read. Only DataError (a UserError) may come out.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/errors.h"
#include "data/npz_source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  mnistnet::DataSpec spec;
  for (const auto split : {mnistnet::Split::train, mnistnet::Split::test}) {
    try {
      const mnistnet::Dataset d = mnistnet::parse_npz_split(bytes, "fuzz.npz", spec, split, {});
      if (d.pixels.size() != static_cast<size_t>(d.count * d.image_size())) __builtin_trap();
      if (d.labels.size() != static_cast<size_t>(d.count)) __builtin_trap();
    } catch (const mnistnet::UserError&) {
    }
  }
  return 0;
}
