#pragma once
// Base64 (RFC 4648, the standard alphabet) for the {"b64": "..."} values of TensorFlow Serving's
// REST API, which carry image files inside JSON.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mnistnet {

struct Base64Result {
  std::vector<uint8_t> bytes;
  std::string error;  // empty on success, else why, with the character offset
};

// Strict: the padding '=' may be left out (URL-safe encoders do), but anything outside the
// alphabet, a lone trailing character or data after the padding is an error.
Base64Result decode_base64(std::string_view text);

}  // namespace mnistnet
