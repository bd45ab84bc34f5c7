// stb_image does the decoding (libstb.so holds its implementation); this file adds the limits,
// the messages and the conversion to one grey plane.
#include "image/image_decoder.h"

#include <stb_image.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>

#include "image/format_check.h"

namespace mnistnet {
namespace fs = std::filesystem;

namespace {

// "256 MiB", "300.5 MiB", "100 bytes".
std::string mib(int64_t bytes) {
  if (bytes < (int64_t{1} << 20)) return std::to_string(bytes) + " bytes";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", static_cast<double>(bytes) / (1 << 20));
  std::string out = text;
  if (out.ends_with(".0")) out.resize(out.size() - 2);
  return out + " MiB";
}

// stb_image's short reasons ("bad png sig", "outofdata", ...) are kept for the curious. Some
// quote bytes of the file ("<4 bytes> PNG chunk not known"): those are made printable, so the
// message stays one line of valid text (and valid JSON).
std::string stb_reason() {
  const char* reason = stbi_failure_reason();
  if (reason == nullptr) return {};
  std::string out = " (stb_image: ";
  for (const char* c = reason; *c != '\0'; ++c) out += (*c >= ' ' && *c <= '~') ? *c : '?';
  return out + ")";
}

void check_dimensions(int width, int height, const std::string& name, const ImageLimits& limits) {
  const int64_t pixels = int64_t{width} * int64_t{height};
  if (width <= 0 || height <= 0 || width > limits.max_side || height > limits.max_side ||
      pixels > limits.max_pixels) {
    throw ImageError(name + ": the image is " + std::to_string(width) + "x" +
                     std::to_string(height) + " pixels; at most " +
                     std::to_string(limits.max_side) + " per side and " +
                     std::to_string(limits.max_pixels >> 20) + " Mpixel are accepted");
  }
}

// stb_image refuses a PNG header over 2^30 bytes of pixels without saying so ("unknown image
// type"), so a PNG's stated size is read here to name it. IHDR is always first: width and
// height are big-endian at bytes 16 and 20.
bool png_header_size(std::span<const uint8_t> bytes, int& width, int& height) {
  static constexpr uint8_t kSignature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() < 24 || std::memcmp(bytes.data(), kSignature, sizeof kSignature) != 0)
    return false;
  auto be32 = [&](size_t at) {
    return (uint32_t{bytes[at]} << 24) | (uint32_t{bytes[at + 1]} << 16) |
           (uint32_t{bytes[at + 2]} << 8) | bytes[at + 3];
  };
  const uint32_t w = be32(16), h = be32(20);
  width = static_cast<int>(std::min<uint32_t>(w, INT_MAX));
  height = static_cast<int>(std::min<uint32_t>(h, INT_MAX));
  return true;
}

// Round-to-nearest integer maths on bytes: (a * b + 127) / 255 stays within 0..255.
uint8_t blend_over_white(int value, int alpha) {
  return static_cast<uint8_t>((value * alpha + 255 * (255 - alpha) + 127) / 255);
}
int luminance(const uint8_t* rgb) {  // BT.601, weights in thousandths
  return (299 * rgb[0] + 587 * rgb[1] + 114 * rgb[2] + 500) / 1000;
}

// raw: [height, width, channels] with channels 1 (grey), 2 (grey, alpha), 3 (RGB) or 4 (RGBA).
GreyImage to_grey(const uint8_t* raw, int width, int height, int channels) {
  GreyImage image;
  image.width = width;
  image.height = height;
  const size_t count = static_cast<size_t>(width) * static_cast<size_t>(height);
  image.pixels.resize(count);
  const auto stride = static_cast<size_t>(channels);
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* p = raw + i * stride;
    switch (channels) {
      case 1:
        image.pixels[i] = p[0];
        break;
      case 2:
        image.pixels[i] = blend_over_white(p[0], p[1]);
        break;
      case 3:
        image.pixels[i] = static_cast<uint8_t>(luminance(p));
        break;
      default:
        image.pixels[i] = blend_over_white(luminance(p), p[3]);
        break;
    }
  }
  return image;
}

// The whole file, refusing more than max_bytes; reads until EOF rather than trusting the size,
// so pipes and files that grow while being read are handled too.
std::vector<uint8_t> read_capped(const fs::path& path, int64_t max_bytes) {
  const std::string name = path.string();
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) throw ImageError(name + ": no such file");
  if (ec) throw ImageError(name + ": cannot open: " + ec.message());
  if (fs::is_directory(status)) throw ImageError(name + ": is a directory, not an image");
  uintmax_t expected = 0;  // the size of a regular file, to allocate once
  if (fs::is_regular_file(status)) {
    const auto size = fs::file_size(path, ec);
    if (!ec) expected = size;
    if (!ec && size > static_cast<uintmax_t>(max_bytes)) {
      throw ImageError(name + ": the file is " + mib(static_cast<int64_t>(size)) + "; at most " +
                       mib(max_bytes) + " is accepted for an image");
    }
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(name.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) throw ImageError(name + ": cannot open: " + std::strerror(errno));
  constexpr size_t kChunk = size_t{1} << 20;
  std::vector<uint8_t> bytes;
  bytes.reserve(static_cast<size_t>(expected) + kChunk);
  for (;;) {
    const size_t old = bytes.size();
    bytes.resize(old + kChunk);
    const size_t got = std::fread(bytes.data() + old, 1, kChunk, file.get());
    bytes.resize(old + got);
    if (static_cast<int64_t>(bytes.size()) > max_bytes) {
      throw ImageError(name + ": the file is larger than the " + mib(max_bytes) +
                       " accepted for an image");
    }
    if (got < kChunk) break;
  }
  if (std::ferror(file.get())) throw ImageError(name + ": cannot read: " + std::strerror(errno));
  return bytes;
}

}  // namespace

namespace {

// stb_image's output: [height, width, channels] bytes, channels 1..4.
struct RawImage {
  std::unique_ptr<uint8_t, void (*)(void*)> pixels{nullptr, &stbi_image_free};
  int width = 0, height = 0, channels = 0;
};

RawImage decode_raw(std::span<const uint8_t> bytes, const std::string& name,
                    const ImageLimits& limits) {
  if (bytes.empty()) throw ImageError(name + ": the file is empty (0 bytes)");
  if (bytes.size() > static_cast<size_t>(INT_MAX) ||
      static_cast<int64_t>(bytes.size()) > limits.max_file_bytes) {
    throw ImageError(name + ": the file is " + std::to_string(bytes.size()) + " bytes; at most " +
                     mib(limits.max_file_bytes) + " is accepted for an image");
  }
  const ImageFormat format = sniff_image_format(bytes);
  if (format == ImageFormat::unknown) {
    const std::string other = unread_format_name(bytes);
    throw ImageError(name + ": not a readable image (PNG, JPEG, BMP or PGM expected): " +
                     (other.empty() ? "unrecognised first bytes"
                                    : "this is " + other + "; convert it to PNG first"));
  }
  const std::string problem = format == ImageFormat::jpeg  ? jpeg_structure_problem(bytes)
                              : format == ImageFormat::png ? png_structure_problem(bytes)
                              : format == ImageFormat::pnm ? pnm_structure_problem(bytes)
                                                           : std::string();
  if (!problem.empty()) {
    const char* kind = format == ImageFormat::jpeg  ? "JPEG"
                       : format == ImageFormat::png ? "PNG"
                                                    : "PGM/PPM";
    throw ImageError(name + ": corrupt or truncated image: " + kind + " " + problem);
  }
  const int length = static_cast<int>(bytes.size());
  int width = 0, height = 0, channels = 0;
  // The header alone first: a file claiming 100000x100000 pixels is refused before any
  // allocation. stb_image refuses some absurd headers itself, as "too large".
  if (stbi_info_from_memory(bytes.data(), length, &width, &height, &channels) == 0) {
    if (png_header_size(bytes, width, height)) check_dimensions(width, height, name, limits);
    throw ImageError(name + ": not a readable image (PNG, JPEG, BMP or PGM expected)" +
                     stb_reason());
  }
  check_dimensions(width, height, name, limits);
  RawImage raw;
  raw.pixels.reset(stbi_load_from_memory(bytes.data(), length, &width, &height, &channels, 0));
  if (!raw.pixels) throw ImageError(name + ": corrupt or truncated image" + stb_reason());
  check_dimensions(width, height, name, limits);  // a multi-frame format may disagree with info
  if (channels < 1 || channels > 4) {
    throw ImageError(name + ": unsupported channel count " + std::to_string(channels));
  }
  raw.width = width;
  raw.height = height;
  raw.channels = channels;
  return raw;
}

// raw: [height, width, channels] with channels 1..4 -> [height, width, 3]: grey repeated,
// alpha composited over white (a transparent background is paper).
std::vector<uint8_t> to_rgb(const uint8_t* raw, int width, int height, int channels) {
  const size_t count = static_cast<size_t>(width) * static_cast<size_t>(height);
  std::vector<uint8_t> out(count * 3);
  const auto stride = static_cast<size_t>(channels);
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* p = raw + i * stride;
    uint8_t* q = &out[i * 3];
    for (int k = 0; k < 3; ++k) {
      const int v = channels <= 2 ? p[0] : p[k];
      q[k] = channels == 2   ? blend_over_white(v, p[1])
             : channels == 4 ? blend_over_white(v, p[3])
                             : static_cast<uint8_t>(v);
    }
  }
  return out;
}

}  // namespace

GreyImage decode_grey_image(std::span<const uint8_t> bytes, const std::string& name,
                            const ImageLimits& limits) {
  const RawImage raw = decode_raw(bytes, name, limits);
  return to_grey(raw.pixels.get(), raw.width, raw.height, raw.channels);
}

PixelImage decode_image(std::span<const uint8_t> bytes, const std::string& name, int channels,
                        const ImageLimits& limits) {
  const RawImage raw = decode_raw(bytes, name, limits);
  PixelImage out;
  out.width = raw.width;
  out.height = raw.height;
  out.channels = channels == 3 ? 3 : 1;
  out.pixels = channels == 3
                   ? to_rgb(raw.pixels.get(), raw.width, raw.height, raw.channels)
                   : to_grey(raw.pixels.get(), raw.width, raw.height, raw.channels).pixels;
  return out;
}

std::vector<uint8_t> read_image_file(const fs::path& path, const ImageLimits& limits) {
  return read_capped(path, limits.max_file_bytes);
}

GreyImage read_grey_image(const fs::path& path, const ImageLimits& limits) {
  const std::vector<uint8_t> bytes = read_capped(path, limits.max_file_bytes);
  return decode_grey_image(bytes, path.string(), limits);
}

}  // namespace mnistnet
