#include "report/run_history.h"

#include <array>
#include <charconv>
#include <cmath>
#include <fstream>

#include "core/errors.h"

namespace mnistnet {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_commas(const std::string& line) {
  std::vector<std::string> fields;
  size_t start = 0;
  for (;;) {
    const size_t comma = line.find(',', start);
    fields.push_back(line.substr(start, comma - start));
    if (comma == std::string::npos) return fields;
    start = comma + 1;
  }
}

std::string at_line(const fs::path& path, int line) {
  return path.string() + ": line " + std::to_string(line) + ": ";
}

// The whole field must be a finite-or-not number: "0.5x" is an error, "nan" is not (a
// diverged epoch is worth showing).
double parse_number(const std::string& field, const fs::path& path, int line,
                    const std::string& column) {
  double value = 0.0;
  const char* end = field.data() + field.size();
  const auto [ptr, ec] = std::from_chars(field.data(), end, value);
  if (ec != std::errc() || ptr != end || field.empty())
    throw DataError(at_line(path, line) + column + ": expected a number, got \"" + field + "\"");
  return value;
}

}  // namespace

std::vector<EpochResult> read_metrics_csv(const fs::path& path) {
  std::ifstream in(path);
  if (!in)
    throw DataError(path.string() + ": cannot open the metrics log (is this a run directory?)");
  std::string line;
  if (!std::getline(in, line)) throw DataError(at_line(path, 1) + "empty file, expected a header");
  if (!line.empty() && line.back() == '\r') line.pop_back();

  // Where each known column sits; -1 when absent.
  static const std::array<const char*, 7> kNames = {"epoch",        "accuracy", "loss",   "lr",
                                                    "val_accuracy", "val_loss", "seconds"};
  std::array<int, 7> column{-1, -1, -1, -1, -1, -1, -1};
  const std::vector<std::string> header = split_commas(line);
  for (size_t i = 0; i < header.size(); ++i)
    for (size_t k = 0; k < kNames.size(); ++k)
      if (header[i] == kNames[k]) column[k] = static_cast<int>(i);
  for (size_t k : {0u, 1u, 2u, 4u, 5u})
    if (column[k] < 0)
      throw DataError(at_line(path, 1) + "the header lacks the column \"" + kNames[k] + "\"");

  std::vector<EpochResult> rows;
  for (int number = 2; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::vector<std::string> fields = split_commas(line);
    if (fields.size() != header.size())
      throw DataError(at_line(path, number) + "expected " + std::to_string(header.size()) +
                      " comma-separated fields, got " + std::to_string(fields.size()));
    std::array<double, 7> v{};
    for (size_t k = 0; k < kNames.size(); ++k)
      if (column[k] >= 0)
        v[k] = parse_number(fields[static_cast<size_t>(column[k])], path, number, kNames[k]);
    if (!(v[0] >= 0 && v[0] < 1e6 && v[0] == std::floor(v[0])))
      throw DataError(at_line(path, number) + "epoch: expected a whole number, got \"" +
                      fields[static_cast<size_t>(column[0])] + "\"");
    EpochResult r;
    r.epoch = static_cast<int>(v[0]);
    r.accuracy = v[1], r.loss = v[2], r.lr = v[3], r.val_accuracy = v[4], r.val_loss = v[5],
    r.seconds = v[6];
    rows.push_back(r);
  }
  return rows;
}

std::string run_name(const fs::path& run_dir) {
  fs::path p = run_dir.lexically_normal();
  if (p.filename().empty()) p = p.parent_path();  // "runs/x/" normalises to "runs/x/"
  if (p.empty() || p == "." || p == "..")
    p = fs::absolute(run_dir).lexically_normal().parent_path();
  std::string name = p.filename().string();
  return name.empty() ? run_dir.string() : name;
}

RunHistory read_run_history(const fs::path& run_dir) {
  RunHistory h;
  h.name = run_name(run_dir);
  h.epochs = read_metrics_csv(run_dir / "metrics.csv");
  // Runs from before batches.csv existed still get a report, without the per-batch curves.
  if (fs::exists(run_dir / "batches.csv")) h.batches = read_batch_log(run_dir / "batches.csv");
  return h;
}

}  // namespace mnistnet
