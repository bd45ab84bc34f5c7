#include "model/summary_table.h"

#include <algorithm>
#include <sstream>

namespace mnistnet {
namespace {

// 178110 -> "178,110", as Keras prints totals.
std::string thousands(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

}  // namespace

ParamCounts count_params(Model& model) {
  ParamCounts c;
  for (const ParamRef& p : model.params())
    (p.trainable ? c.trainable : c.non_trainable) += p.size();
  return c;
}

std::string summary_table(Model& model, const std::string& name) {
  auto rows = model.summary_rows();
  // A graph model gets Keras's functional-model table: an InputLayer row first, and a
  // "Connected to" column with one line per input (name[0][0]).
  const bool graph = !model.is_sequential();
  if (graph)
    rows.insert(rows.begin(), SummaryRow{"input", "InputLayer", model.input_shape(), 0, {}});
  // Keras's widths, widened when a name would run into the next column.
  size_t first = 28, connected = 0;
  for (const auto& r : rows) {
    first = std::max(first, r.name.size() + r.type.size() + 5);
    for (const auto& in : r.inputs) connected = std::max(connected, in.size() + 6);
  }
  const size_t width = first + 37 + (graph ? std::max<size_t>(connected, 12) + 4 : 0);
  const std::string thin(width, '_'), thick(width, '=');
  std::ostringstream out;
  out << "Model: \"" << name << "\"\n" << thin << "\n";
  out << " " << pad("Layer (type)", first) << pad("Output Shape", 26)
      << (graph ? pad("Param #", 11) + "Connected to" : "Param #") << "\n"
      << thick << "\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string params = std::to_string(rows[i].params);
    out << " " << pad(rows[i].name + " (" + rows[i].type + ")", first)
        << pad(keras_shape_string(rows[i].output), 26);
    if (!graph) {
      out << params << "\n";
    } else {
      out << pad(params, 11) << (rows[i].inputs.empty() ? "-" : rows[i].inputs[0] + "[0][0]")
          << "\n";
      for (size_t k = 1; k < rows[i].inputs.size(); ++k)
        out << std::string(first + 26 + 12, ' ') << rows[i].inputs[k] << "[0][0]\n";
    }
    if (i + 1 < rows.size()) out << "\n";
  }
  const ParamCounts c = count_params(model);
  out << thick << "\n";
  out << "Total params: " << thousands(c.trainable + c.non_trainable) << "\n";
  out << "Trainable params: " << thousands(c.trainable) << "\n";
  out << "Non-trainable params: " << thousands(c.non_trainable) << "\n" << thin << "\n";
  return out.str();
}

}  // namespace mnistnet
