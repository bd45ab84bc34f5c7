#include "train/batch_logger.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/errors.h"

namespace mnistnet {

BatchLogger::BatchLogger(std::filesystem::path path) : path_(std::move(path)) {
  text_ = std::string(header()) + "\n";
  write_file_atomically(path_, text_);
}

void BatchLogger::on_epoch_begin(int epoch, int /*epochs*/, int64_t steps, double /*lr*/) {
  epoch_ = epoch;
  if (epoch != resumed_epoch_) rows_.clear();
  resumed_epoch_ = -1;
  rows_.reserve(static_cast<size_t>(steps));  // the batch loop below only fills it
}

void BatchLogger::on_batch_end(int64_t step, double loss, double accuracy, double lr) {
  if (rows_.size() < rows_.capacity()) rows_.push_back({epoch_, step, loss, accuracy, lr});
}

void BatchLogger::on_epoch_end(const EpochResult& /*result*/) {
  char line[128];
  for (const BatchRow& r : rows_) {
    std::snprintf(line, sizeof line, "%d,%lld,%.6g,%.6g,%.6g\n", r.epoch,
                  static_cast<long long>(r.step), r.loss, r.accuracy, r.lr);
    text_ += line;
  }
  write_file_atomically(path_, text_);
}

void BatchLogger::save_state(nlohmann::json& state) const {
  nlohmann::json rows = nlohmann::json::array();
  for (const BatchRow& r : rows_) rows.push_back({r.step, r.loss, r.accuracy, r.lr});
  state["batch_log"] = {{"epoch", epoch_}, {"rows", rows}};
}

void BatchLogger::on_resume(const std::vector<EpochResult>& history, const nlohmann::json& state) {
  const auto finished = static_cast<int>(history.size());
  text_ = std::string(header()) + "\n";
  std::ifstream in(path_);
  std::string line;
  std::getline(in, line);                    // the header
  const bool without_lr = line != header();  // written before the lr column existed
  while (std::getline(in, line)) {
    int epoch = 0;
    if (std::sscanf(line.c_str(), "%d,", &epoch) == 1 && epoch < finished)
      text_ += line + (without_lr ? ",nan\n" : "\n");
  }
  rows_.clear();
  if (state.is_object() && state.contains("batch_log") &&
      state["batch_log"].value("epoch", -1) == finished) {
    for (const auto& r : state["batch_log"]["rows"]) {
      // JSON has no NaN: a null loss reads back as NaN.
      auto number = [](const nlohmann::json& j) {
        return j.is_null() ? std::nan("") : j.get<double>();
      };
      rows_.push_back({finished, r.at(0).get<int64_t>(), number(r.at(1)), number(r.at(2)),
                       r.size() > 3 ? number(r.at(3)) : std::nan("")});
    }
    resumed_epoch_ = finished;
  }
  write_file_atomically(path_, text_);
}

std::vector<BatchRow> read_batch_log(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw DataError(path.string() + ": cannot open the batch log");
  std::string line;
  std::getline(in, line);
  // Logs from before the lr column have the first four.
  const bool with_lr = line == BatchLogger::header();
  if (!with_lr && line != "epoch,step,loss,accuracy")
    throw DataError(path.string() + ": line 1: expected the header \"" + BatchLogger::header() +
                    "\"");
  std::vector<BatchRow> rows;
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    BatchRow r;
    long long step = 0;
    const int fields = std::sscanf(line.c_str(), "%d,%lld,%lf,%lf,%lf", &r.epoch, &step, &r.loss,
                                   &r.accuracy, &r.lr);
    if (fields != (with_lr ? 5 : 4))
      throw DataError(path.string() + ": line " + std::to_string(number) + ": expected " +
                      (with_lr ? BatchLogger::header() : "epoch,step,loss,accuracy"));
    r.step = step;
    rows.push_back(r);
  }
  return rows;
}

}  // namespace mnistnet
