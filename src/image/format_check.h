#pragma once
// Checks done on an image file's bytes before stb_image sees them. Debian's stb_image (2.27) has
// known memory-safety bugs on hostile input, found again by tests/fuzz/fuzz_image: only the
// formats predict promises are handed to it, and the JPEG structures it mishandles are refused.
#include <cstdint>
#include <span>
#include <string>

namespace mnistnet {

enum class ImageFormat { unknown, png, jpeg, bmp, pnm };

// By the file's first bytes (its magic), not its name.
ImageFormat sniff_image_format(std::span<const uint8_t> bytes);

// The name of a well-known image format that predict does not read ("GIF", "TIFF", "WebP" ...),
// by its magic, for the error message; "" when the bytes are no such format either.
std::string unread_format_name(std::span<const uint8_t> bytes);

// Walks a JPEG's marker segments; returns why stb_image must not decode it ("" when it may):
// a Huffman table (DHT) whose code counts add up to more than 256 symbols, or overflow the
// 16-bit code space, or a segment running past the end of the file.
std::string jpeg_structure_problem(std::span<const uint8_t> bytes);

// The same for a PNG: every chunk must fit in the file (stb_image allocates what a chunk's
// length claims before reading it: 2 GiB for an 80-byte file).
std::string png_structure_problem(std::span<const uint8_t> bytes);

// The same for a binary PGM/PPM header: width, height and maximum value must be numbers of at
// most 10 digits (stb_image's int parsing overflows), and the maximum value 1..255.
std::string pnm_structure_problem(std::span<const uint8_t> bytes);

}  // namespace mnistnet
