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
  const auto rows = model.summary_rows();
  // Keras's widths, widened when a name would run into the next column.
  size_t first = 28;
  for (const auto& r : rows) first = std::max(first, r.name.size() + r.type.size() + 5);
  const std::string thin(first + 37, '_'), thick(first + 37, '=');
  std::ostringstream out;
  out << "Model: \"" << name << "\"\n" << thin << "\n";
  out << " " << pad("Layer (type)", first) << pad("Output Shape", 26) << "Param #\n"
      << thick << "\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    out << " " << pad(rows[i].name + " (" + rows[i].type + ")", first)
        << pad(keras_shape_string(rows[i].output), 26) << rows[i].params << "\n";
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
