#include "serve/base64.h"

#include <array>

namespace mnistnet {
namespace {

constexpr std::array<int8_t, 256> make_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr std::array<int8_t, 256> kTable = make_table();

}  // namespace

Base64Result decode_base64(std::string_view text) {
  Base64Result r;
  size_t end = text.size();
  size_t padding = 0;
  while (end > 0 && text[end - 1] == '=' && padding < 2) {
    --end;
    ++padding;
  }
  if (padding > 0 && (end + padding) % 4 != 0) {
    r.error = "character " + std::to_string(end) + ": padding '=' where none belongs";
    return r;
  }
  if (end % 4 == 1) {
    r.error = "character " + std::to_string(end - 1) + ": a lone trailing character";
    return r;
  }
  r.bytes.reserve(end / 4 * 3 + 2);
  uint32_t bits = 0;
  int count = 0;
  for (size_t i = 0; i < end; ++i) {
    const int8_t v = kTable[static_cast<uint8_t>(text[i])];
    if (v < 0) {
      r.bytes.clear();
      r.error = "character " + std::to_string(i) + ": not base64";
      return r;
    }
    bits = (bits << 6) | static_cast<uint32_t>(v);
    if (++count == 4) {
      r.bytes.push_back(static_cast<uint8_t>(bits >> 16));
      r.bytes.push_back(static_cast<uint8_t>(bits >> 8));
      r.bytes.push_back(static_cast<uint8_t>(bits));
      bits = 0;
      count = 0;
    }
  }
  if (count == 2) r.bytes.push_back(static_cast<uint8_t>(bits >> 4));
  if (count == 3) {
    r.bytes.push_back(static_cast<uint8_t>(bits >> 10));
    r.bytes.push_back(static_cast<uint8_t>(bits >> 2));
  }
  return r;
}

}  // namespace mnistnet
