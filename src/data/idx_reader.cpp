// IDX parsing on top of zlib's gz* API, which reads gzip and raw files alike (a file without the
// gzip magic is passed through unchanged), so offsets below are always decompressed offsets.
#include "data/idx_reader.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <limits>
#include <memory>
#include <span>
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

// What one kind of IDX file looks like; used for checks and for messages. Images are
// [count, rows, cols] or [count, rows, cols, channels] bytes; labels are [count] bytes, or
// QMNIST's [count, k] big-endian int32 rows ("idx2-int"), whose first column is the class.
struct IdxKind {
  int ndims;
  int alt_ndims;                    // a second accepted rank (0: none)
  uint8_t dtype;                    // 0x08 unsigned byte, 0x0C int32
  const char* noun;                 // "images" / "labels"
  std::array<const char*, 4> dims;  // names of the header dims
};
constexpr IdxKind kImages{3, 4, 0x08, "images", {"image count", "rows", "cols", "channels"}};
constexpr IdxKind kLabels{1, 0, 0x08, "labels", {"label count", nullptr, nullptr, nullptr}};
constexpr IdxKind kIntLabels{2, 0, 0x0C, "labels", {"label count", "columns", nullptr, nullptr}};

struct IdxHeader {
  int ndims = 0;
  uint8_t dtype = 0x08;
  std::array<int64_t, 4> dims{};  // only the first ndims are used
  int64_t data_offset = 0;        // header size in bytes
  int64_t data_bytes = 0;         // product of the dims times the element size
};

// Where an IDX file's decompressed bytes come from: a file through zlib's gz* API, or bytes
// already in memory (inflated here when they start with the gzip magic).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Up to n bytes; fewer only at the end of the data. A failure returns -1 and sets `error`
  // (without the path).
  virtual int read(uint8_t* dst, unsigned n, std::string& error) = 0;
  // After a short read: did a gzip stream stop mid-way?
  virtual bool truncated_gzip() const = 0;
  // At most this many bytes can come out (deflate expands at most 1032:1), so a short file whose
  // header promises gigabytes does not reserve them.
  virtual int64_t size_bound() const = 0;
};

constexpr int64_t kMaxInflateRatio = 1032;

class GzFileSource : public ByteSource {
 public:
  explicit GzFileSource(const fs::path& path) : path_(path) {
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
    const auto size = fs::file_size(path_, ec);
    if (!ec)
      size_bound_ =
          static_cast<int64_t>(std::min<uintmax_t>(size, uintmax_t{1} << 40)) * kMaxInflateRatio;
  }
  ~GzFileSource() override { gzclose_r(file_); }
  GzFileSource(const GzFileSource&) = delete;
  GzFileSource& operator=(const GzFileSource&) = delete;

  int read(uint8_t* dst, unsigned n, std::string& error) override {
    const int got = gzread(file_, dst, n);
    if (got >= 0) return got;
    int errnum = Z_OK;
    const char* message = gzerror(file_, &errnum);
    if (errnum == Z_ERRNO) {
      error = "read error: " + std::generic_category().message(errno);
      return -1;
    }
    // zlib prefixes "<path>: "; the message already starts with the path.
    std::string reason = message;
    const std::string prefix = path_.string() + ": ";
    if (reason.starts_with(prefix)) reason.erase(0, prefix.size());
    // zlib discards the partial output of a failed read, so the damage lies somewhere in
    // the data after the offset (within one zlib buffer or one of our read chunks).
    error = "corrupt gzip stream (" + reason + ") after this offset";
    return -1;
  }

  bool truncated_gzip() const override {
    int errnum = Z_OK;
    gzerror(file_, &errnum);
    return errnum == Z_BUF_ERROR;
  }

  int64_t size_bound() const override { return size_bound_; }

 private:
  fs::path path_;
  gzFile file_ = nullptr;
  int64_t size_bound_ = std::numeric_limits<int64_t>::max();  // unknown for a pipe
};

// Bytes in memory, read as gzread reads a file: gzip members (one after another) are inflated,
// anything else is passed through unchanged, and bytes after the last member that are not
// another gzip member are ignored.
class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::span<const uint8_t> bytes) : bytes_(bytes) {
    gzip_ = is_gzip(0);
    if (gzip_ && inflateInit2(&stream_, 15 + 16) != Z_OK) throw std::bad_alloc();
  }
  ~MemorySource() override {
    if (gzip_) inflateEnd(&stream_);
  }
  MemorySource(const MemorySource&) = delete;
  MemorySource& operator=(const MemorySource&) = delete;

  int read(uint8_t* dst, unsigned n, std::string& error) override {
    if (!gzip_) {
      const size_t got = std::min<size_t>(n, bytes_.size() - pos_);
      std::copy_n(bytes_.data() + pos_, got, dst);
      pos_ += got;
      return static_cast<int>(got);
    }
    unsigned done = 0;
    while (done < n && !finished_) {
      stream_.next_in = const_cast<Bytef*>(bytes_.data() + pos_);
      stream_.avail_in = static_cast<uInt>(std::min<size_t>(bytes_.size() - pos_, kZlibBuffer));
      stream_.next_out = dst + done;
      stream_.avail_out = n - done;
      const uInt in_before = stream_.avail_in, out_before = stream_.avail_out;
      const int rc = inflate(&stream_, Z_NO_FLUSH);
      pos_ += in_before - stream_.avail_in;
      done += out_before - stream_.avail_out;
      if (rc == Z_STREAM_END) {
        if (is_gzip(pos_)) {
          inflateReset(&stream_);
        } else {
          finished_ = true;  // as gzread: what follows the last member is not data
        }
      } else if (rc == Z_BUF_ERROR) {  // no progress possible: the input ran out inside a member
        truncated_ = true;
        finished_ = true;
      } else if (rc != Z_OK) {
        error = std::string("corrupt gzip stream (") +
                (stream_.msg ? stream_.msg : "error " + std::to_string(rc)) + ") after this offset";
        return -1;
      }
    }
    return static_cast<int>(done);
  }

  bool truncated_gzip() const override { return truncated_; }
  int64_t size_bound() const override {
    const auto left = static_cast<int64_t>(bytes_.size() - pos_);
    return gzip_ ? left * kMaxInflateRatio : left;
  }

 private:
  bool is_gzip(size_t at) const {
    return bytes_.size() - at >= 2 && bytes_[at] == 0x1f && bytes_[at + 1] == 0x8b;
  }

  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
  bool gzip_ = false, finished_ = false, truncated_ = false;
  z_stream stream_{};
};

// One IDX file opened for sequential reading; tracks the decompressed offset for messages.
class IdxFile {
 public:
  IdxFile(fs::path path, std::unique_ptr<ByteSource> source)
      : path_(std::move(path)), source_(std::move(source)) {}

  const fs::path& path() const { return path_; }

  // Reads and checks the magic number and the dims. Labels files may be either label kind:
  // the data type byte picks one (0x08 bytes, 0x0C QMNIST's int32 rows).
  IdxHeader read_header(const IdxKind& wanted) {
    std::array<uint8_t, 20> raw{};
    const int64_t got = read_some(raw.data(), 4);
    if (got < 4) header_ends_early(wanted, 4 + 4 * int64_t{wanted.ndims});
    const uint32_t magic = big_endian(raw.data());
    const uint32_t expected_magic = 0x0800u | static_cast<uint32_t>(wanted.ndims);
    if (raw[0] != 0 || raw[1] != 0) {
      fail(path_, 0,
           "bad magic number " + hex(magic, 8) + ", expected " + hex(expected_magic, 8) + " (IDX " +
               wanted.noun + " file)");
    }
    const bool labels = wanted.noun == kLabels.noun;
    const IdxKind& kind = labels && raw[2] == kIntLabels.dtype ? kIntLabels : wanted;
    if (raw[2] != kind.dtype) {
      fail(path_, 2,
           "data type " + hex(raw[2], 2) + ", expected 0x08 (unsigned byte)" +
               (labels ? " or 0x0c (int32, QMNIST)" : ""));
    }
    if (raw[3] != kind.ndims && (kind.alt_ndims == 0 || raw[3] != kind.alt_ndims)) {
      fail(path_, 3,
           std::to_string(raw[3]) + " dimensions, expected " + std::to_string(kind.ndims) +
               (kind.alt_ndims ? " or " + std::to_string(kind.alt_ndims) : "") + " (IDX " +
               kind.noun + " file: magic " +
               hex(uint32_t{kind.dtype} << 8 | static_cast<uint32_t>(kind.ndims), 8) + ")");
    }
    const int ndims = raw[3];
    const int64_t header_bytes = 4 + 4 * int64_t{ndims};
    if (read_some(raw.data() + 4, header_bytes - 4) < header_bytes - 4) {
      header_ends_early(kind, header_bytes);
    }
    IdxHeader header;
    header.ndims = ndims;
    header.data_offset = header_bytes;
    header.data_bytes = kind.dtype == 0x0C ? 4 : 1;
    for (int d = 0; d < ndims; ++d) {
      const int64_t at = 4 + 4 * int64_t{d};
      const int64_t value = big_endian(raw.data() + at);
      const int64_t max = d == 0 ? kMaxCount : d == 3 ? 4 : kMaxSide;
      if (value < 1 || value > max) {
        fail(path_, at,
             std::string(kind.dims[static_cast<size_t>(d)]) + " " + std::to_string(value) +
                 ", expected 1.." + std::to_string(max));
      }
      header.dims[static_cast<size_t>(d)] = value;
      header.data_bytes *= value;  // <= 4 * 2^31 * 4096 * 4096 * 4 = 2^59: no overflow
    }
    header.dtype = kind.dtype;
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
    data.reserve(static_cast<size_t>(std::min({expected, kReserveCap, source_->size_bound()})));
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
    return source_->truncated_gzip() ? "gzip stream ends early (truncated .gz file)"
                                     : "file ends early";
  }

  // Reads up to n bytes; fewer only at the end of the data. Throws on a read or gzip error.
  int64_t read_some(uint8_t* dst, int64_t n) {
    int64_t total = 0;
    while (total < n) {
      const int64_t want = std::min(n - total, kReadChunk);
      std::string error;
      const int got = source_->read(dst + total, static_cast<unsigned>(want), error);
      if (got < 0) fail(path_, offset_, error);
      total += got;
      offset_ += got;
      if (got < want) break;
    }
    return total;
  }

  fs::path path_;
  std::unique_ptr<ByteSource> source_;
  int64_t offset_ = 0;  // decompressed bytes read so far
};

IdxFile open_file(const fs::path& path) {
  return IdxFile(path, std::make_unique<GzFileSource>(path));
}

std::string image_promise(const IdxHeader& header) {
  std::string what = std::to_string(header.dims[0]) + " images of " +
                     std::to_string(header.dims[1]) + "x" + std::to_string(header.dims[2]);
  if (header.ndims == 4) what += std::string("x") + std::to_string(header.dims[3]);
  return what;
}

std::string label_promise(const IdxHeader& header) {
  if (header.dtype == kIntLabels.dtype)
    return std::to_string(header.dims[0]) + " rows of " + std::to_string(header.dims[1]) + " int32";
  return std::to_string(header.dims[0]) + " labels";
}

void check_num_classes(int num_classes) {
  if (num_classes < 1 || num_classes > 256) {
    throw std::invalid_argument("read_idx_labels: num_classes " + std::to_string(num_classes) +
                                " outside 1..256");
  }
}

// The file's data -> one class per example: bytes as they are, or the first column of
// QMNIST's int32 rows; label_offset is subtracted (EMNIST letters count from 1) and every
// class must land in 0..num_classes-1.
std::vector<uint8_t> to_classes(const fs::path& path, const IdxHeader& header,
                                std::vector<uint8_t> data, const IdxLabelOptions& options) {
  const bool ints = header.dtype == kIntLabels.dtype;
  const int64_t count = header.dims[0];
  const int64_t stride = ints ? 4 * header.dims[1] : 1;
  std::vector<uint8_t> labels(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const uint8_t* p = data.data() + i * stride;
    const int64_t raw =
        ints ? int64_t{static_cast<int32_t>(uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 |
                                            uint32_t{p[2]} << 8 | uint32_t{p[3]})}
             : int64_t{p[0]};
    const int64_t label = raw - options.label_offset;
    if (label < 0 || label >= options.num_classes) {
      fail(path, header.data_offset + i * stride,
           "label " + std::to_string(raw) + " out of range " +
               std::to_string(options.label_offset) + ".." +
               std::to_string(options.label_offset + options.num_classes - 1) +
               (options.label_offset != 0
                    ? " (data.label_offset " + std::to_string(options.label_offset) + ")"
                    : ""));
    }
    labels[static_cast<size_t>(i)] = static_cast<uint8_t>(label);
  }
  return labels;
}

IdxImages read_images(IdxFile& file) {
  const IdxHeader header = file.read_header(kImages);
  IdxImages images;
  images.count = header.dims[0];
  images.rows = static_cast<int>(header.dims[1]);
  images.cols = static_cast<int>(header.dims[2]);
  images.channels = header.ndims == 4 ? static_cast<int>(header.dims[3]) : 1;
  images.pixels = file.read_data(header, image_promise(header));
  return images;
}

std::vector<uint8_t> read_labels(IdxFile& file, const IdxLabelOptions& options) {
  const IdxHeader header = file.read_header(kLabels);
  return to_classes(file.path(), header, file.read_data(header, label_promise(header)), options);
}

}  // namespace

IdxImages read_idx_images(const fs::path& path) {
  IdxFile file = open_file(path);
  return read_images(file);
}

std::vector<uint8_t> read_idx_labels(const fs::path& path, int num_classes) {
  check_num_classes(num_classes);
  IdxFile file = open_file(path);
  return read_labels(file, {num_classes, 0});
}

IdxImages parse_idx_images(std::span<const uint8_t> bytes, const std::string& name) {
  IdxFile file(name, std::make_unique<MemorySource>(bytes));
  return read_images(file);
}

std::vector<uint8_t> parse_idx_labels(std::span<const uint8_t> bytes, const std::string& name,
                                      int num_classes) {
  check_num_classes(num_classes);
  IdxFile file(name, std::make_unique<MemorySource>(bytes));
  return read_labels(file, {num_classes, 0});
}

Dataset read_idx_pair(const fs::path& images_path, const fs::path& labels_path, int num_classes) {
  return read_idx_pair(images_path, labels_path, IdxLabelOptions{num_classes, 0});
}

Dataset read_idx_pair(const fs::path& images_path, const fs::path& labels_path,
                      const IdxLabelOptions& options) {
  check_num_classes(options.num_classes);
  IdxFile image_file = open_file(images_path);
  IdxFile label_file = open_file(labels_path);
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
  data.channels = image_header.ndims == 4 ? static_cast<int>(image_header.dims[3]) : 1;
  data.pixels = image_file.read_data(image_header, image_promise(image_header));
  data.labels =
      to_classes(labels_path, label_header,
                 label_file.read_data(label_header, label_promise(label_header)), options);
  return data;
}

}  // namespace mnistnet
