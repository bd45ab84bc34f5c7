// .npz = a zip of .npy files. libzip opens the archive (from the file, or from memory) and
// checks each member's CRC as it inflates; the .npy header (magic, version, a Python dict
// literal with 'descr', 'fortran_order' and 'shape') is parsed here, since no Debian library
// reads it.
#include "data/npz_source.h"

#include <zip.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <system_error>

#include "core/errors.h"

namespace mnistnet {
namespace fs = std::filesystem;

namespace {

using Archive = std::unique_ptr<zip_t, void (*)(zip_t*)>;

struct NpyArray {
  std::string descr;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;  // as stored (little-endian elements)
  size_t item_size = 1;
};

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw DataError(where + ": " + what);
}

// The value text of `key` in a .npy header dict ("{'descr': '|u1', 'shape': (3, 28, 28), }").
std::string dict_value(const std::string& dict, const std::string& key, const std::string& where) {
  const std::string quoted = "'" + key + "'";
  size_t at = dict.find(quoted);
  if (at == std::string::npos) fail(where, "the .npy header has no '" + key + "'");
  at = dict.find(':', at + quoted.size());
  if (at == std::string::npos) fail(where, "the .npy header's '" + key + "' has no value");
  ++at;
  while (at < dict.size() && dict[at] == ' ') ++at;
  size_t end = at;
  if (end < dict.size() && (dict[end] == '(' || dict[end] == '\'')) {
    const char close = dict[end] == '(' ? ')' : '\'';
    end = dict.find(close, end + 1);
    if (end == std::string::npos) fail(where, "the .npy header's '" + key + "' is not closed");
    ++end;
  } else {
    while (end < dict.size() && dict[end] != ',' && dict[end] != '}') ++end;
  }
  return dict.substr(at, end - at);
}

NpyArray parse_npy(const std::vector<uint8_t>& bytes, const std::string& where) {
  static constexpr uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic, 6) != 0)
    fail(where, "byte 0: not a .npy array (expected the magic \"\\x93NUMPY\")");
  const int major = bytes[6];
  if (major < 1 || major > 3)
    fail(where, "byte 6: .npy format version " + std::to_string(major) + ", expected 1..3");
  size_t header_len = bytes[8] | size_t{bytes[9]} << 8;
  size_t start = 10;
  if (major >= 2) {
    if (bytes.size() < 12) fail(where, "byte 8: the file ends inside the .npy header");
    header_len |= size_t{bytes[10]} << 16 | size_t{bytes[11]} << 24;
    start = 12;
  }
  if (header_len > bytes.size() - start)
    fail(where, "byte " + std::to_string(start - 2) + ": header length " +
                    std::to_string(header_len) + " runs past the end of the member");
  const std::string dict(bytes.begin() + static_cast<std::ptrdiff_t>(start),
                         bytes.begin() + static_cast<std::ptrdiff_t>(start + header_len));
  NpyArray a;
  const std::string descr = dict_value(dict, "descr", where);
  if (descr.size() < 2) fail(where, "the .npy header's 'descr' " + descr + " is not a dtype");
  a.descr = descr.substr(1, descr.size() - 2);
  if (dict_value(dict, "fortran_order", where) != "False")
    fail(where, "the array is in Fortran order; save it in C order (numpy's default)");
  const std::string shape = dict_value(dict, "shape", where);
  int64_t value = -1, product = 1;
  for (size_t i = 1; i < shape.size(); ++i) {
    const char c = shape[i];
    if (c >= '0' && c <= '9') {
      value = (value < 0 ? 0 : value) * 10 + (c - '0');
      if (value > (int64_t{1} << 40)) fail(where, "the .npy shape " + shape + " is too large");
    } else if (c == ',' || c == ')') {
      if (value >= 0) {
        a.shape.push_back(value);
        product = std::min<int64_t>(product * std::max<int64_t>(value, 1), int64_t{1} << 50);
        if (value == 0) product = 0;
      }
      value = -1;
    } else if (c != ' ' && c != 'L') {
      fail(where, "the .npy header's shape " + shape + " is not a tuple of integers");
    }
  }
  const std::string& t = a.descr;
  const bool little = t[0] == '<' || t[0] == '|';
  const std::string kind = little ? t.substr(1) : t;
  if (!little && t[0] != '>' && t[0] != '=') a.item_size = 0;
  if (kind == "u1" || kind == "i1" || kind == "b1")
    a.item_size = 1;
  else if (kind == "u2" || kind == "i2")
    a.item_size = 2;
  else if (kind == "u4" || kind == "i4")
    a.item_size = 4;
  else if (kind == "u8" || kind == "i8")
    a.item_size = 8;
  else
    a.item_size = 0;  // a float or other dtype: the caller says what it expected
  if (t[0] == '>' && a.item_size > 1) a.item_size = 0;  // big-endian: not what numpy writes here
  const size_t data_start = start + header_len;
  const auto held = static_cast<int64_t>(bytes.size() - data_start);
  if (a.item_size != 0 && product * static_cast<int64_t>(a.item_size) != held)
    fail(where, "byte " + std::to_string(data_start) + ": shape " + shape + " of " + t + " needs " +
                    std::to_string(product * static_cast<int64_t>(a.item_size)) +
                    " bytes, the member holds " + std::to_string(held));
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(data_start), bytes.end());
  return a;
}

std::string member_list(zip_t* zip) {
  std::string out;
  const zip_int64_t n = zip_get_num_entries(zip, 0);
  for (zip_int64_t i = 0; i < n && i < 10; ++i) {
    const char* name = zip_get_name(zip, static_cast<zip_uint64_t>(i), 0);
    out += (out.empty() ? "" : ", ") + std::string(name ? name : "?");
  }
  return out.empty() ? "nothing" : out;
}

bool has_member(zip_t* zip, const std::string& key) {
  return zip_name_locate(zip, (key + ".npy").c_str(), 0) >= 0;
}

// Reads and parses member <key>.npy (CRC checked by libzip while inflating).
NpyArray read_member(zip_t* zip, const std::string& name, const std::string& key,
                     const std::string& setting) {
  const std::string member = key + ".npy";
  const std::string where = name + ": member " + member;
  const zip_int64_t index = zip_name_locate(zip, member.c_str(), 0);
  if (index < 0)
    fail(name,
         "no member " + member + " (data." + setting + "); the archive holds " + member_list(zip));
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(zip, static_cast<zip_uint64_t>(index), 0, &st) != 0 ||
      !(st.valid & ZIP_STAT_SIZE))
    fail(where, zip_strerror(zip));
  if (st.size > (zip_uint64_t{1} << 36)) fail(where, "larger than 64 GiB");
  zip_file_t* file = zip_fopen_index(zip, static_cast<zip_uint64_t>(index), 0);
  if (file == nullptr) fail(where, std::string("cannot open: ") + zip_strerror(zip));
  const std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> guard(file, zip_fclose);
  std::vector<uint8_t> bytes;
  constexpr zip_uint64_t kChunk = zip_uint64_t{1} << 20;  // grow as data arrives, not by st.size
  while (bytes.size() < st.size) {
    const size_t done = bytes.size();
    bytes.resize(done + static_cast<size_t>(std::min<zip_uint64_t>(kChunk, st.size - done)));
    const zip_int64_t got = zip_fread(file, bytes.data() + done, bytes.size() - done);
    if (got < 0)
      fail(where, "byte " + std::to_string(done) + ": " + zip_file_strerror(file) +
                      " (a damaged or truncated archive)");
    if (static_cast<size_t>(got) < bytes.size() - done)
      fail(where, "byte " + std::to_string(done + static_cast<size_t>(got)) +
                      ": the member ends early (a truncated archive)");
  }
  return parse_npy(bytes, where);
}

Dataset read_split(zip_t* zip, const std::string& name, const DataSpec& spec, Split split,
                   const ReadOptions& options) {
  const bool train = split == Split::train;
  const std::string& xk = train ? spec.x_train : spec.x_test;
  const std::string& yk = train ? spec.y_train : spec.y_test;
  const NpyArray x = read_member(zip, name, xk, train ? "x_train" : "x_test");
  const NpyArray y = read_member(zip, name, yk, train ? "y_train" : "y_test");
  const std::string xw = name + ": member " + xk + ".npy", yw = name + ": member " + yk + ".npy";
  if (x.descr != "|u1" && x.descr != "u1" && x.descr != "<u1")
    fail(xw, "dtype " + x.descr + ", expected uint8 (|u1) pixels");
  if (x.shape.size() != 3 && !(x.shape.size() == 4 && (x.shape[3] == 1 || x.shape[3] == 3)))
    fail(xw, "shape of " + std::to_string(x.shape.size()) +
                 " dimensions, expected (N, H, W) or (N, H, W, C) with C 1 or 3");
  if (x.shape[1] < 1 || x.shape[2] < 1 || x.shape[1] > 4096 || x.shape[2] > 4096)
    fail(xw, "images of " + std::to_string(x.shape[1]) + "x" + std::to_string(x.shape[2]) +
                 ", expected sides of 1..4096");
  if (y.item_size == 0 ||
      (y.descr.find('u') == std::string::npos && y.descr.find('i') == std::string::npos))
    fail(yw, "dtype " + y.descr + ", expected integer labels (uint8, int64 ...)");
  if (!(y.shape.size() == 1 || (y.shape.size() == 2 && y.shape[1] == 1)))
    fail(yw, "shape of " + std::to_string(y.shape.size()) + " dimensions, expected (N,)");
  if (y.shape[0] != x.shape[0])
    fail(yw, std::to_string(y.shape[0]) + " labels for " + std::to_string(x.shape[0]) +
                 " images in " + xk + ".npy");
  Dataset d;
  d.count = x.shape[0];
  d.rows = static_cast<int>(x.shape[1]);
  d.cols = static_cast<int>(x.shape[2]);
  d.channels = x.shape.size() == 4 ? static_cast<int>(x.shape[3]) : 1;
  d.pixels = x.data;
  d.source = xw;
  d.labels.resize(static_cast<size_t>(d.count));
  const bool is_signed = y.descr.find('i') != std::string::npos;
  for (size_t i = 0; i < d.labels.size(); ++i) {
    int64_t v = 0;
    uint64_t raw = 0;
    std::memcpy(&raw, y.data.data() + i * y.item_size, y.item_size);  // little-endian host
    if (is_signed && y.item_size < 8 && (raw >> (8 * y.item_size - 1)) != 0)
      raw |= ~uint64_t{0} << (8 * y.item_size);  // sign-extend
    v = static_cast<int64_t>(raw);
    v -= spec.label_offset;
    if (v < 0 || v >= options.num_classes)
      fail(yw, "label " + std::to_string(v + spec.label_offset) + " at index " + std::to_string(i) +
                   " out of range " + std::to_string(spec.label_offset) + ".." +
                   std::to_string(spec.label_offset + options.num_classes - 1));
    d.labels[i] = static_cast<uint8_t>(v);
  }
  return d;
}

Archive open_archive(zip_source_t* source, const std::string& name) {
  zip_error_t error;
  zip_error_init(&error);
  zip_t* zip = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (zip == nullptr) {
    zip_source_free(source);
    const std::string what = zip_error_strerror(&error);
    zip_error_fini(&error);
    fail(name, "not a readable .npz (zip) archive: " + what);
  }
  zip_error_fini(&error);
  return Archive(zip, zip_discard);
}

Archive open_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) fail(path.string(), "file not found");
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_file_create(path.c_str(), 0, -1, &error);
  if (source == nullptr) {
    const std::string what = zip_error_strerror(&error);
    zip_error_fini(&error);
    fail(path.string(), "cannot open: " + what);
  }
  zip_error_fini(&error);
  return open_archive(source, path.string());
}

fs::path npz_file(const fs::path& path, const DataSpec& spec) {
  std::error_code ec;
  return fs::is_directory(path, ec) ? path / (spec.dataset + ".npz") : path;
}

std::string why_not(const fs::path& path, const DataSpec& spec) {
  const fs::path file = npz_file(path, spec);
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return "missing " + file.filename().string();
  return "";
}

bool recognises(const fs::path& path, const DataSpec& spec) {
  const fs::path file = npz_file(path, spec);
  std::error_code ec;
  return fs::is_regular_file(file, ec) && file.extension() == ".npz";
}

bool has_test(const fs::path& path, const DataSpec& spec) {
  const fs::path file = npz_file(path, spec);
  const Archive zip = open_file(file);
  const bool x = has_member(zip.get(), spec.x_test), y = has_member(zip.get(), spec.y_test);
  if (x != y)
    fail(file.string(), "no member " + (x ? spec.y_test : spec.x_test) + ".npy (data." +
                            (x ? "y_test" : "x_test") + ") to go with " +
                            (x ? spec.x_test : spec.y_test) + ".npy");
  return x;
}

Dataset read(const fs::path& path, const DataSpec& spec, Split split, const ReadOptions& options) {
  const fs::path file = npz_file(path, spec);
  const Archive zip = open_file(file);
  return read_split(zip.get(), file.string(), spec, split, options);
}

}  // namespace

Dataset parse_npz_split(std::string_view bytes, const std::string& name, const DataSpec& spec,
                        Split split, const ReadOptions& options) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  zip_error_fini(&error);
  if (source == nullptr) throw std::bad_alloc();
  const Archive zip = open_archive(source, name);
  return read_split(zip.get(), name, spec, split, options);
}

DataReader npz_data_reader() { return {"npz", recognises, why_not, has_test, false, read}; }

}  // namespace mnistnet
