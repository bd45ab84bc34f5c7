#pragma once
// Text helpers for building a self-contained HTML page by hand.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mnistnet {

// Escapes & < > " ' so any text (a config, a file name) is safe in element content and in
// attribute values.
std::string html_escape(std::string_view text);

// RFC 4648 base64 with padding, for data: URIs.
std::string base64_encode(const std::vector<uint8_t>& bytes);

// "data:image/png;base64,..." for PNG bytes.
std::string png_data_uri(const std::vector<uint8_t>& png);

// printf-style formatting into a std::string (the page is built from many small numbers).
std::string strprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace mnistnet
