// libFuzzer target: the bytes of a checkpoint (.ckpt) -> decode_checkpoint(). Sections carry
// their own CRC-32s, so most mutations stop at a checksum; the interesting cases are truncation,
// section tables and lengths, which are read before any checksum. Only UserErrors
// (CheckpointError) may come out.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/errors.h"
#include "train/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)mnistnet::decode_checkpoint(std::string_view(reinterpret_cast<const char*>(data), size),
                                      "fuzz.ckpt");
  } catch (const mnistnet::UserError&) {
  }
  return 0;
}
