#include "report/report_writer.h"

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "model/summary_table.h"
#include "report/digit_grid.h"
#include "report/report_html.h"

namespace mnistnet {
namespace fs = std::filesystem;

namespace {

// The run's resolved config, pretty-printed; empty when the run has none (it is only shown).
std::string read_config_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    return nlohmann::json::parse(text).dump(2);
  } catch (const nlohmann::json::parse_error& e) {
    throw DataError(path.string() + ": not valid JSON: " + e.what());
  }
}

}  // namespace

void write_run_report(const fs::path& run_dir, Model& model, const std::string& model_name,
                      const Dataset& validation, const std::vector<int32_t>& predicted,
                      int epochs_planned) {
  ReportInputs in;
  in.history = read_run_history(run_dir);
  in.model_name = model_name;
  in.model_summary = summary_table(model, model_name);
  in.config_json = read_config_json(run_dir / "config.json");
  in.validation = &validation;
  in.predicted = &predicted;
  in.num_classes = static_cast<int>(model.num_outputs());
  // A finished run with a held-out validation split has its test figures in summary.json.
  if (std::ifstream summary(run_dir / "summary.json"); summary) {
    const nlohmann::json j = nlohmann::json::parse(summary, nullptr, false);
    if (j.is_object() && j.contains("test_accuracy") && j["test_accuracy"].is_number() &&
        j.contains("test_loss") && j["test_loss"].is_number()) {
      in.test_accuracy = j["test_accuracy"].get<double>();
      in.test_loss = j["test_loss"].get<double>();
    }
  }
  in.epochs_planned = epochs_planned;
  const std::string html = render_report_html(in);
  const std::vector<uint8_t> png =
      predictions_png(validation, predicted, grid_examples(validation, predicted, in.grid_limit));
  write_file_atomically(run_dir / "report.html", html);
  write_file_atomically(run_dir / "predictions.png",
                        std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

ReportWriter::ReportWriter(fs::path run_dir, std::string model_name, const Dataset& validation)
    : run_dir_(std::move(run_dir)), model_name_(std::move(model_name)), validation_(validation) {}

void ReportWriter::on_epoch_begin(int /*epoch*/, int epochs, int64_t /*steps*/, double /*lr*/) {
  epochs_ = epochs;
}

void ReportWriter::on_validation(Model& model, const std::vector<int32_t>& predicted) {
  write_run_report(run_dir_, model, model_name_, validation_, predicted, epochs_);
}

}  // namespace mnistnet
