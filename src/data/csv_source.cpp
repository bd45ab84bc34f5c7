// CSV parsing with libcsv (RFC 4180 quoting, CRLF or LF). A large file without quotes is split at
// line ends into one chunk per core, each parsed by its own csv_parser, so a 60,000-row Kaggle
// file loads in about a second; the chunks' rows are joined in order, so the result and the first
// error reported do not depend on the split.
#include "data/csv_source.h"

#include <csv.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>
#include <system_error>

#include "core/errors.h"
#include "core/parallel_for.h"
#include "core/shape.h"

namespace mnistnet {
namespace fs = std::filesystem;

namespace {

constexpr size_t kChunkMin = size_t{1} << 20;  // smaller files parse on one thread

struct Layout {
  std::vector<std::string> header;
  int label_column = -1;  // index into header, -1: none
  int rows = 0, cols = 0, channels = 1;
  int num_classes = 256;
  size_t pixels() const {
    return static_cast<size_t>(rows) * static_cast<size_t>(cols) * static_cast<size_t>(channels);
  }
};

// One chunk's parse: its rows' values, or the first error in it.
struct Chunk {
  const Layout* layout = nullptr;
  std::vector<uint8_t> pixels, labels;
  int64_t rows = 0;  // complete rows so far
  size_t column = 0;
  bool failed = false;
  int64_t error_row = 0;  // within the chunk, 0-based
  size_t error_column = 0;
  std::string error;
};

void fail_at(Chunk& c, size_t column, std::string what) {
  c.failed = true;
  c.error_row = c.rows;
  c.error_column = column;
  c.error = std::move(what);
}

std::string quoted(const char* s, size_t n) {
  std::string out = "\"";
  for (size_t i = 0; i < std::min<size_t>(n, 20); ++i) {
    const auto ch = static_cast<unsigned char>(s[i]);
    out += ch >= 32 && ch < 127 ? static_cast<char>(ch) : '?';
  }
  return out + (n > 20 ? "...\"" : "\"");
}

// A decimal integer, surrounding spaces allowed; -1 when the field is not one (or above 99999).
long parse_int(const char* s, size_t n) {
  size_t i = 0;
  while (i < n && s[i] == ' ') ++i;
  while (n > i && s[n - 1] == ' ') --n;
  if (i == n || n - i > 5) return -1;
  long v = 0;
  for (; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

void on_field(void* field, size_t n, void* data) {
  Chunk& c = *static_cast<Chunk*>(data);
  if (c.failed) return;
  const Layout& l = *c.layout;
  const char* s = static_cast<const char*>(field);
  if (c.column >= l.header.size()) {
    if (c.column == l.header.size())
      fail_at(c, c.column, "more fields than the header's " + std::to_string(l.header.size()));
    return;
  }
  const long v = parse_int(s, n);
  if (static_cast<int>(c.column) == l.label_column) {
    if (v < 0 || v >= l.num_classes) {
      fail_at(c, c.column,
              v < 0 ? "expected an integer label, got " + quoted(s, n)
                    : "label " + std::to_string(v) + " out of range 0.." +
                          std::to_string(l.num_classes - 1));
      return;
    }
    c.labels.push_back(static_cast<uint8_t>(v));
  } else {
    if (v < 0 || v > 255) {
      fail_at(c, c.column,
              v < 0 ? "expected a pixel value 0..255, got " + quoted(s, n)
                    : "pixel value " + std::to_string(v) + " out of range 0..255");
      return;
    }
    c.pixels.push_back(static_cast<uint8_t>(v));
  }
  ++c.column;
}

void on_row(int /*terminator*/, void* data) {
  Chunk& c = *static_cast<Chunk*>(data);
  if (c.failed) return;
  if (c.column != c.layout->header.size()) {
    fail_at(c, c.column,
            "the row has " + std::to_string(c.column) + " fields, the header " +
                std::to_string(c.layout->header.size()));
    return;
  }
  ++c.rows;
  c.column = 0;
}

// Parses bytes as CSV rows into `chunk`; a libcsv error (a stray quote) is the chunk's error.
void parse_rows(std::string_view bytes, Chunk& chunk) {
  csv_parser parser;
  if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0) throw std::bad_alloc();
  const std::unique_ptr<csv_parser, void (*)(csv_parser*)> guard(&parser, csv_free);
  if (csv_parse(&parser, bytes.data(), bytes.size(), on_field, on_row, &chunk) != bytes.size() ||
      csv_fini(&parser, on_field, on_row, &chunk) != 0) {
    if (!chunk.failed) fail_at(chunk, chunk.column, csv_strerror(csv_error(&parser)));
  }
}

// The header row: its field names and where it ends.
struct HeaderFields {
  std::vector<std::string> names;
  size_t end = 0;  // offset of the first data row
};

void on_header_field(void* field, size_t n, void* data) {
  auto& h = *static_cast<HeaderFields*>(data);
  h.names.emplace_back(static_cast<const char*>(field), n);
}

HeaderFields read_header(std::string_view bytes, const std::string& name) {
  HeaderFields h;
  size_t end = 0;
  bool quoted_field = false;
  while (end < bytes.size() && (quoted_field || bytes[end] != '\n')) {
    if (bytes[end] == '"') quoted_field = !quoted_field;
    ++end;
  }
  csv_parser parser;
  if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0) throw std::bad_alloc();
  const std::unique_ptr<csv_parser, void (*)(csv_parser*)> guard(&parser, csv_free);
  if (csv_parse(&parser, bytes.data(), end, on_header_field, nullptr, &h) != end ||
      csv_fini(&parser, on_header_field, nullptr, &h) != 0)
    throw DataError(name + ": row 0 (the header): " + csv_strerror(csv_error(&parser)));
  if (!h.names.empty() && !h.names.back().empty() && h.names.back().back() == '\r')
    h.names.back().pop_back();
  h.end = end < bytes.size() ? end + 1 : end;
  return h;
}

Layout layout_for(const HeaderFields& h, const std::string& name, const DataSpec& spec,
                  const ReadOptions& options, bool require_labels) {
  Layout l;
  l.header = h.names;
  l.num_classes = options.num_classes;
  if (l.header.empty() || (l.header.size() == 1 && l.header[0].empty()))
    throw DataError(name + ": row 0: empty file, expected a header row (" + spec.label_column +
                    ",pixel0,pixel1,...)");
  const auto numbers = std::count_if(l.header.begin(), l.header.end(), [](const std::string& f) {
    return parse_int(f.data(), f.size()) >= 0;
  });
  if (numbers == static_cast<std::ptrdiff_t>(l.header.size()))
    throw DataError(name + ": row 0: expected a header row (" + spec.label_column +
                    ",pixel0,pixel1,...), got numbers: the first row must name the columns");
  const auto label = std::find(l.header.begin(), l.header.end(), spec.label_column);
  if (label != l.header.end()) l.label_column = static_cast<int>(label - l.header.begin());
  if (l.label_column < 0 && require_labels)
    throw DataError(name + ": row 0: no \"" + spec.label_column + "\" column in the header (" +
                    quoted(l.header[0].data(), l.header[0].size()) + ", ...; data.label_column " +
                    "names it)");
  const size_t pixels = l.header.size() - (l.label_column >= 0 ? 1 : 0);
  if (!spec.image_shape.empty()) {
    l.rows = static_cast<int>(spec.image_shape[0]);
    l.cols = static_cast<int>(spec.image_shape[1]);
    l.channels = static_cast<int>(spec.image_shape[2]);
    if (l.pixels() != pixels)
      throw DataError(name + ": row 0: " + std::to_string(pixels) +
                      " pixel columns, data.image_shape " + shape_string(spec.image_shape) +
                      " needs " + std::to_string(l.pixels()));
  } else {
    const auto side = static_cast<size_t>(std::llround(std::sqrt(static_cast<double>(pixels))));
    if (pixels == 0 || side * side != pixels || side > 4096)
      throw DataError(name + ": row 0: " + std::to_string(pixels) +
                      " pixel columns are not a square image; set data.image_shape");
    l.rows = l.cols = static_cast<int>(side);
  }
  return l;
}

}  // namespace

Dataset parse_csv_dataset(std::string_view bytes, const std::string& name, const DataSpec& spec,
                          const ReadOptions& options, bool require_labels) {
  const HeaderFields header = read_header(bytes, name);
  const Layout layout = layout_for(header, name, spec, options, require_labels);
  const std::string_view body = bytes.substr(header.end);

  // Chunks end after a '\n', so each starts at a row; only a file without quotes is split (a
  // quoted field may hold a line break).
  std::vector<size_t> starts = {0};
  const int threads = parallel_threads();
  if (body.size() >= kChunkMin && threads > 1 && body.find('"') == std::string_view::npos) {
    for (int t = 1; t < threads; ++t) {
      const size_t at =
          body.find('\n', body.size() * static_cast<size_t>(t) / static_cast<size_t>(threads));
      if (at == std::string_view::npos || at + 1 <= starts.back()) break;
      starts.push_back(at + 1);
    }
  }
  starts.push_back(body.size());
  std::vector<Chunk> chunks(starts.size() - 1);
  for (Chunk& c : chunks) c.layout = &layout;
  parallel_for(static_cast<int64_t>(chunks.size()), [&](int64_t begin, int64_t end) {
    for (auto i = static_cast<size_t>(begin); i < static_cast<size_t>(end); ++i) {
      const std::string_view part = body.substr(starts[i], starts[i + 1] - starts[i]);
      chunks[i].pixels.reserve(part.size() / 2);  // a value and its comma take 2 bytes or more
      try {
        parse_rows(part, chunks[i]);
      } catch (const std::bad_alloc&) {
        fail_at(chunks[i], 0, "not enough memory");
      }
    }
  });

  Dataset d;
  d.rows = layout.rows;
  d.cols = layout.cols;
  d.channels = layout.channels;
  d.source = name;
  int64_t rows_before = 0;
  for (const Chunk& c : chunks) {
    if (c.failed) {
      const size_t col = c.error_column;
      const std::string column_name =
          col < layout.header.size() ? " (" + layout.header[col] + ")" : "";
      throw DataError(name + ": row " + std::to_string(rows_before + c.error_row + 1) +
                      ", column " + std::to_string(col + 1) + column_name + ": " + c.error);
    }
    rows_before += c.rows;
  }
  d.count = rows_before;
  d.pixels.reserve(static_cast<size_t>(d.count) * layout.pixels());
  for (const Chunk& c : chunks) {
    d.pixels.insert(d.pixels.end(), c.pixels.begin(), c.pixels.end());
    if (layout.label_column >= 0) d.labels.insert(d.labels.end(), c.labels.begin(), c.labels.end());
  }
  if (d.count == 0) throw DataError(name + ": row 1: no data rows after the header");
  return d;
}

Dataset read_csv_dataset(const fs::path& path, const DataSpec& spec, const ReadOptions& options,
                         bool require_labels) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw DataError(path.string() + ": file not found");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path.string() + ": cannot open the CSV file");
  std::string bytes(static_cast<size_t>(fs::file_size(path, ec)), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!in) throw DataError(path.string() + ": read error");
  return parse_csv_dataset(bytes, path.string(), spec, options, require_labels);
}

namespace {

bool is_csv_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && p.extension() == ".csv";
}

fs::path split_file(const fs::path& path, const DataSpec& spec, Split split) {
  std::error_code ec;
  const bool dir = fs::is_directory(path, ec);
  if (split == Split::train)
    return dir ? path / (spec.train.empty() ? "train.csv" : spec.train) : path;
  const fs::path base = dir ? path : path.parent_path();
  if (spec.test.empty()) return dir ? base / "test.csv" : fs::path();
  return base / spec.test;
}

std::string why_not(const fs::path& path, const DataSpec& spec) {
  const fs::path train = split_file(path, spec, Split::train);
  std::error_code ec;
  if (!fs::exists(path, ec)) return "does not exist";
  return is_csv_file(train) || (fs::is_regular_file(train, ec) && !spec.format.empty())
             ? ""
             : "missing " + train.filename().string();
}

bool recognises(const fs::path& path, const DataSpec& spec) {
  return is_csv_file(split_file(path, spec, Split::train));
}

// Whether the test file exists and has the label column (else it is a prediction input).
bool has_test(const fs::path& path, const DataSpec& spec) {
  const fs::path test = split_file(path, spec, Split::test);
  std::error_code ec;
  if (test.empty() || !fs::is_regular_file(test, ec)) {
    if (!spec.test.empty()) throw DataError(test.string() + ": file not found (data.test)");
    return false;
  }
  std::ifstream in(test, std::ios::binary);
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const HeaderFields h = read_header(line, test.string());
  return std::find(h.names.begin(), h.names.end(), spec.label_column) != h.names.end();
}

Dataset read(const fs::path& path, const DataSpec& spec, Split split, const ReadOptions& options) {
  return read_csv_dataset(split_file(path, spec, split), spec, options, true);
}

}  // namespace

DataReader csv_data_reader() { return {"csv", recognises, why_not, has_test, false, read}; }

}  // namespace mnistnet
