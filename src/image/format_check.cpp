#include "image/format_check.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string_view>

namespace mnistnet {

ImageFormat sniff_image_format(std::span<const uint8_t> bytes) {
  auto starts = [&](std::initializer_list<uint8_t> magic) {
    return bytes.size() >= magic.size() &&
           std::memcmp(bytes.data(), magic.begin(), magic.size()) == 0;
  };
  if (starts({0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'})) return ImageFormat::png;
  if (starts({0xff, 0xd8, 0xff})) return ImageFormat::jpeg;
  if (starts({'B', 'M'})) return ImageFormat::bmp;
  if (starts({'P', '5'}) || starts({'P', '6'})) return ImageFormat::pnm;  // binary PGM, PPM
  return ImageFormat::unknown;
}

std::string unread_format_name(std::span<const uint8_t> bytes) {
  auto starts = [&](std::string_view magic, size_t at = 0) {
    return bytes.size() >= at + magic.size() &&
           std::memcmp(bytes.data() + at, magic.data(), magic.size()) == 0;
  };
  if (starts("GIF87a") || starts("GIF89a")) return "GIF";
  if (starts("II*\0") || starts("MM\0*")) return "TIFF";
  if (starts("RIFF") && starts("WEBP", 8)) return "WebP";
  if (starts("ftypavif", 4) || starts("ftypheic", 4) || starts("ftypmif1", 4)) return "AVIF/HEIF";
  if (starts(std::string_view("\0\0\1\0", 4))) return "ICO";
  if (starts("%PDF")) return "PDF";
  if (starts("<svg") || starts("<?xml")) return "SVG";
  if (starts("P1") || starts("P2") || starts("P3") || starts("P4"))
    return "plain-text or 1-bit PNM (only binary P5/P6 are read)";
  return "";
}

namespace {

// One DHT segment's body: tables of [class/id byte, 16 counts, symbols].
std::string check_huffman_tables(std::span<const uint8_t> body, size_t at) {
  size_t i = 0;
  while (i < body.size()) {
    if (body.size() - i < 17)
      return "Huffman table at byte " + std::to_string(at + i) + " is truncated";
    size_t symbols = 0;
    uint32_t code = 0;  // canonical Huffman codes of each length must fit that many bits
    for (int len = 1; len <= 16; ++len) {
      const uint8_t count = body[i + static_cast<size_t>(len)];
      symbols += count;
      code = (code + count) << 1;
      if (code > (uint32_t{1} << (len + 1)))
        return "Huffman table at byte " + std::to_string(at + i) + " has more codes than fit";
    }
    if (symbols > 256)
      return "Huffman table at byte " + std::to_string(at + i) + " has " + std::to_string(symbols) +
             " symbols (at most 256)";
    i += 17 + symbols;
    if (i > body.size())
      return "Huffman table at byte " + std::to_string(at) + " runs past its segment";
  }
  return {};
}

}  // namespace

std::string jpeg_structure_problem(std::span<const uint8_t> bytes) {
  size_t i = 2;  // after SOI
  while (i + 1 < bytes.size()) {
    if (bytes[i] !=
        0xff) {  // entropy-coded data: skip to the next marker that is not a stuffed byte or RSTn
      ++i;
      continue;
    }
    const uint8_t marker = bytes[i + 1];
    if (marker == 0xff) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0x00 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    if (marker == 0xd9) return {};        // EOI
    if (i + 4 > bytes.size()) return {};  // stb_image reports the truncation itself
    const size_t length = size_t{bytes[i + 2]} << 8 | bytes[i + 3];
    if (length < 2)
      return "segment at byte " + std::to_string(i) + " has length " + std::to_string(length);
    const size_t end = std::min(i + 2 + length, bytes.size());  // a truncated segment: its start
    if (marker == 0xc4) {
      std::string problem = check_huffman_tables(bytes.subspan(i + 4, end - (i + 4)), i + 4);
      if (!problem.empty()) return problem;
    }
    i += 2 + length;
  }
  return {};
}

std::string png_structure_problem(std::span<const uint8_t> bytes) {
  size_t i = 8;  // after the signature
  while (i < bytes.size()) {
    if (bytes.size() - i < 12) return "chunk header at byte " + std::to_string(i) + " is truncated";
    const size_t length = size_t{bytes[i]} << 24 | size_t{bytes[i + 1]} << 16 |
                          size_t{bytes[i + 2]} << 8 | bytes[i + 3];
    std::string type;
    for (size_t k = 4; k < 8; ++k)
      type += (bytes[i + k] >= ' ' && bytes[i + k] <= '~') ? static_cast<char>(bytes[i + k]) : '?';
    if (length > bytes.size() - i - 12) {
      return "chunk " + type + " at byte " + std::to_string(i) + " claims " +
             std::to_string(length) + " bytes, past the end of the file";
    }
    i += 12 + length;
    if (type == "IEND") break;
  }
  return {};
}

std::string pnm_structure_problem(std::span<const uint8_t> bytes) {
  size_t i = 2;  // after "P5" / "P6"
  const char* names[] = {"width", "height", "maximum value"};
  for (const char* what : names) {
    // Whitespace and "#" comments (to the end of the line) separate the numbers.
    while (i < bytes.size() && (std::isspace(bytes[i]) || bytes[i] == '#')) {
      if (bytes[i] == '#')
        while (i < bytes.size() && bytes[i] != '\n' && bytes[i] != '\r') ++i;
      else
        ++i;
    }
    const size_t start = i;
    int64_t value = 0;
    while (i < bytes.size() && bytes[i] >= '0' && bytes[i] <= '9' && i - start < 10)
      value = value * 10 + (bytes[i++] - '0');
    if (i == start) return std::string(what) + " at byte " + std::to_string(start) + " is missing";
    if ((i < bytes.size() && bytes[i] >= '0' && bytes[i] <= '9') || value > 1000000000)
      return std::string(what) + " at byte " + std::to_string(start) + " is too large";
    if (what == names[2] && (value < 1 || value > 255))
      return "maximum value " + std::to_string(value) + " at byte " + std::to_string(start) +
             ": only 8-bit images (1..255) are read";
  }
  return {};
}

}  // namespace mnistnet
