// IDX parsing on top of zlib's gz* API, which reads gzip and raw files alike (a file without the
// gzip magic is passed through unchanged), so offsets below are always decompressed offsets.
#include "data/idx_reader.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "core/errors.h"

namespace mnistnet {
namespace fs = std::filesystem;

namespace {

constexpr int64_t kMaxCount = int64_t{1} << 31;  // indices must fit the pipeline's uint32
constexpr int64_t kMaxSide = 4096;
// Data is read in chunks so a header that promises more than the file holds fails with a
// "file ends early" message instead of one huge up-front allocation. Chunks of at least twice
// the zlib buffer are decompressed straight into the destination, skipping zlib's own copy.
constexpr unsigned kZlibBuffer = 1u << 16;
constexpr int64_t kReadChunk = int64_t{1} << 20;
constexpr int64_t kReserveCap = int64_t{1} << 28;

[[noreturn]] void fail(const fs::path& path, int64_t offset, const std::string& what) {
  throw DataError(path.string() + ": byte " + std::to_string(offset) + ": " + what);
}

std::string hex(uint64_t value, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) out += kDigits[(value >> shift) & 0xf];
  return out;
}

// What one kind of IDX file looks like; used for checks and for messages.
struct IdxKind {
  int ndims;
  const char* noun;                 // "images" / "labels"
  std::array<const char*, 3> dims;  // names of the header dims
};
constexpr IdxKind kImages{3, "images", {"image count", "rows", "cols"}};
constexpr IdxKind kLabels{1, "labels", {"label count", nullptr, nullptr}};

struct IdxHeader {
  std::array<int64_t, 3> dims{};  // only the first kind.ndims are used
  int64_t data_offset = 0;        // header size in bytes
  int64_t data_bytes = 0;         // product of the dims
};

// One IDX file opened for sequential reading; tracks the decompressed offset for messages.
class IdxFile {
 public:
  explicit IdxFile(fs::path path) : path_(std::move(path)) {
    std::error_code ec;
    const fs::file_status status = fs::status(path_, ec);
    if (!fs::exists(status)) {
      const bool missing = !ec || ec == std::errc::no_such_file_or_directory;
      throw DataError(path_.string() + ": " + (missing ? "file not found" : ec.message()));
    }
    if (fs::is_directory(status))
      throw DataError(path_.string() + ": is a directory, expected an IDX file");
    errno = 0;
    file_ = gzopen(path_.c_str(), "rb");
    if (file_ == nullptr) {
      const int err = errno;
      throw DataError(
          path_.string() + ": cannot open: " +
          (err != 0 ? std::generic_category().message(err) : std::string("out of memory")));
    }
    gzbuffer(file_, kZlibBuffer);  // zlib's default 8 KiB buffer makes many small reads
  }
  ~IdxFile() { gzclose_r(file_); }
  IdxFile(const IdxFile&) = delete;
  IdxFile& operator=(const IdxFile&) = delete;

  const fs::path& path() const { return path_; }

  // Reads and checks the magic number and the dims for `kind`.
  IdxHeader read_header(const IdxKind& kind) {
    const int64_t header_bytes = 4 + 4 * int64_t{kind.ndims};
    std::array<uint8_t, 16> raw{};
    const int64_t got = read_some(raw.data(), 4);
    if (got < 4) header_ends_early(kind, header_bytes);
    const uint32_t magic = big_endian(raw.data());
    const uint32_t expected_magic = 0x0800u | static_cast<uint32_t>(kind.ndims);
    if (raw[0] != 0 || raw[1] != 0) {
      fail(path_, 0,
           "bad magic number " + hex(magic, 8) + ", expected " + hex(expected_magic, 8) + " (IDX " +
               kind.noun + " file)");
    }
    if (raw[2] != 0x08) {
      fail(path_, 2, "data type " + hex(raw[2], 2) + ", expected 0x08 (unsigned byte)");
    }
    if (raw[3] != kind.ndims) {
      fail(path_, 3,
           std::to_string(raw[3]) + " dimensions, expected " + std::to_string(kind.ndims) +
               " (IDX " + kind.noun + " file: magic " + hex(expected_magic, 8) + ")");
    }
    if (read_some(raw.data() + 4, header_bytes - 4) < header_bytes - 4) {
      header_ends_early(kind, header_bytes);
    }
    IdxHeader header;
    header.data_offset = header_bytes;
    header.data_bytes = 1;
    for (int d = 0; d < kind.ndims; ++d) {
      const int64_t at = 4 + 4 * int64_t{d};
      const int64_t value = big_endian(raw.data() + at);
      const int64_t max = d == 0 ? kMaxCount : kMaxSide;
      if (value < 1 || value > max) {
        fail(path_, at,
             std::string(kind.dims[static_cast<size_t>(d)]) + " " + std::to_string(value) +
                 ", expected 1.." + std::to_string(max));
      }
      header.dims[static_cast<size_t>(d)] = value;
      header.data_bytes *= value;  // <= 2^31 * 4096 * 4096 = 2^55: no overflow
    }
    return header;
  }

  // Reads exactly header.data_bytes bytes and checks that the file ends right there.
  // `promise` describes the data for messages, e.g. "60000 images of 28x28".
  std::vector<uint8_t> read_data(const IdxHeader& header, const std::string& promise) {
    const int64_t expected = header.data_bytes;
    const std::string what = "header promises " + promise + " = " + std::to_string(expected) +
                             " bytes from byte " + std::to_string(header.data_offset) + " to " +
                             std::to_string(header.data_offset + expected);
    std::vector<uint8_t> data;
    data.reserve(static_cast<size_t>(std::min(expected, kReserveCap)));
    while (static_cast<int64_t>(data.size()) < expected) {
      const int64_t done = static_cast<int64_t>(data.size());
      const int64_t want = std::min(expected - done, kReadChunk);
      data.resize(static_cast<size_t>(done + want));
      if (read_some(data.data() + done, want) < want)
        fail(path_, offset_, ends_early() + ": " + what);
    }
    uint8_t extra = 0;
    if (read_some(&extra, 1) != 0) {
      fail(path_, header.data_offset + expected,
           "trailing data after the end of the " + promise +
               " the header promises (expected end of file)");
    }
    return data;
  }

 private:
  static uint32_t big_endian(const uint8_t* p) {
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
  }

  [[noreturn]] void header_ends_early(const IdxKind& kind, int64_t header_bytes) {
    fail(path_, offset_,
         ends_early() + " inside the " + std::to_string(header_bytes) + "-byte header of an IDX " +
             kind.noun + " file");
  }

  // After a short read: was it the gzip stream that stopped mid-way, or a clean end of file?
  std::string ends_early() const {
    int errnum = Z_OK;
    gzerror(file_, &errnum);
    return errnum == Z_BUF_ERROR ? "gzip stream ends early (truncated .gz file)"
                                 : "file ends early";
  }

  // Reads up to n bytes; fewer only at the end of the data. Throws on a read or gzip error.
  int64_t read_some(uint8_t* dst, int64_t n) {
    int64_t total = 0;
    while (total < n) {
      const int64_t want = std::min(n - total, kReadChunk);
      const int got = gzread(file_, dst + total, static_cast<unsigned>(want));
      if (got < 0) {
        int errnum = Z_OK;
        const char* message = gzerror(file_, &errnum);
        if (errnum == Z_ERRNO)
          fail(path_, offset_, "read error: " + std::generic_category().message(errno));
        // zlib prefixes "<path>: "; the message already starts with the path.
        std::string reason = message;
        const std::string prefix = path_.string() + ": ";
        if (reason.starts_with(prefix)) reason.erase(0, prefix.size());
        // zlib discards the partial output of a failed read, so the damage lies somewhere in
        // the data after offset_ (within one zlib buffer or one of our read chunks).
        fail(path_, offset_, "corrupt gzip stream (" + reason + ") after this offset");
      }
      total += got;
      offset_ += got;
      if (got < want) break;
    }
    return total;
  }

  fs::path path_;
  gzFile file_ = nullptr;
  int64_t offset_ = 0;  // decompressed bytes read so far
};

std::string image_promise(const IdxHeader& header) {
  return std::to_string(header.dims[0]) + " images of " + std::to_string(header.dims[1]) + "x" +
         std::to_string(header.dims[2]);
}

std::string label_promise(const IdxHeader& header) {
  return std::to_string(header.dims[0]) + " labels";
}

void check_num_classes(int num_classes) {
  if (num_classes < 1 || num_classes > 256) {
    throw std::invalid_argument("read_idx_labels: num_classes " + std::to_string(num_classes) +
                                " outside 1..256");
  }
}

void check_labels(const fs::path& path, const IdxHeader& header, const std::vector<uint8_t>& labels,
                  int num_classes) {
  const auto bad =
      std::find_if(labels.begin(), labels.end(), [&](uint8_t l) { return l >= num_classes; });
  if (bad != labels.end()) {
    fail(path, header.data_offset + (bad - labels.begin()),
         "label " + std::to_string(*bad) + " out of range 0.." + std::to_string(num_classes - 1));
  }
}

}  // namespace

IdxImages read_idx_images(const fs::path& path) {
  IdxFile file(path);
  const IdxHeader header = file.read_header(kImages);
  IdxImages images;
  images.count = header.dims[0];
  images.rows = static_cast<int>(header.dims[1]);
  images.cols = static_cast<int>(header.dims[2]);
  images.pixels = file.read_data(header, image_promise(header));
  return images;
}

std::vector<uint8_t> read_idx_labels(const fs::path& path, int num_classes) {
  check_num_classes(num_classes);
  IdxFile file(path);
  const IdxHeader header = file.read_header(kLabels);
  std::vector<uint8_t> labels = file.read_data(header, label_promise(header));
  check_labels(path, header, labels, num_classes);
  return labels;
}

Dataset read_idx_pair(const fs::path& images_path, const fs::path& labels_path, int num_classes) {
  check_num_classes(num_classes);
  IdxFile image_file(images_path);
  IdxFile label_file(labels_path);
  const IdxHeader image_header = image_file.read_header(kImages);
  const IdxHeader label_header = label_file.read_header(kLabels);
  if (image_header.dims[0] != label_header.dims[0]) {
    throw DataError(images_path.string() + ": byte 4: " + std::to_string(image_header.dims[0]) +
                    " images, but " + labels_path.string() + ": byte 4: " +
                    std::to_string(label_header.dims[0]) + " labels; the counts must match");
  }
  Dataset data;
  data.count = image_header.dims[0];
  data.rows = static_cast<int>(image_header.dims[1]);
  data.cols = static_cast<int>(image_header.dims[2]);
  data.pixels = image_file.read_data(image_header, image_promise(image_header));
  data.labels = label_file.read_data(label_header, label_promise(label_header));
  check_labels(labels_path, label_header, data.labels, num_classes);
  return data;
}

}  // namespace mnistnet
