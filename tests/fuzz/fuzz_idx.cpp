// libFuzzer target: the bytes of an IDX file (raw or gzip) -> images or labels.
// Each input is read both ways; only DataError (a UserError) may come out.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/errors.h"
#include "data/idx_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  try {
    const mnistnet::IdxImages images = mnistnet::parse_idx_images(bytes, "fuzz-images-idx3-ubyte");
    if (static_cast<int64_t>(images.pixels.size()) !=
        images.count * images.rows * images.cols * images.channels)
      __builtin_trap();
  } catch (const mnistnet::UserError&) {
  }
  try {
    const int num_classes = size > 8 ? 1 + data[size - 1] : 10;  // 1..256
    (void)mnistnet::parse_idx_labels(bytes, "fuzz-labels-idx1-ubyte", num_classes);
  } catch (const mnistnet::UserError&) {
  }
  return 0;
}
