#include "export/export_metadata.h"

#include <nlohmann/json.hpp>

namespace mnistnet::onnx_export {
namespace {

// The input as graph_input() declares it, per example, and its layout's name.
std::pair<Shape, std::string> input_dims(const Model& model, const OnnxExportOptions& options) {
  Shape s = model.input_shape();
  if (s.size() == 1 && s[0] == 28 * 28) s = {28, 28, 1};
  if (s.size() != 3) return {s, "flat"};
  if (options.layout == OnnxLayout::nhwc) return {s, "NHWC"};
  return {Shape{s[2], s[0], s[1]}, "NCHW"};
}

std::string number_text(double v) {
  nlohmann::json j = v;
  if (v == static_cast<double>(static_cast<int64_t>(v))) j = static_cast<int64_t>(v);
  return j.dump();
}

}  // namespace

std::string input_description(LoadedModel& loaded, const OnnxExportOptions& options) {
  const auto [dims, layout] = input_dims(loaded.model, options);
  std::string shape = "[N";
  for (int64_t d : dims) shape += ", " + std::to_string(d);
  shape += "]";
  return "input: float32 " + shape + " (" + layout + "), each value a pixel byte / " +
         number_text(loaded.meta.pixel_divisor) +
         " (0 = background, bright ink on black as in MNIST: mnistnet predict's preprocessing); "
         "output \"probabilities\": float32 [N, " +
         std::to_string(loaded.model.num_outputs()) +
         "], softmax probabilities in the order of mnistnet.class_names";
}

std::vector<std::pair<std::string, std::string>> export_metadata(LoadedModel& loaded,
                                                                 const OnnxExportOptions& options) {
  const ModelMeta& meta = loaded.meta;
  nlohmann::json classes = nlohmann::json::array();
  for (int64_t i = 0; i < loaded.model.num_outputs(); ++i) classes.push_back(class_name(meta, i));
  const nlohmann::ordered_json config = {
      {"name", meta.name},
      {"data", {{"dataset", meta.dataset}, {"pixel_divisor", meta.pixel_divisor}}},
      {"model", model_spec_to_json(loaded.model.spec())}};
  return {
      {"mnistnet.version", MNISTNET_VERSION},
      {"mnistnet.class_names", classes.dump()},
      {"mnistnet.pixel_divisor", number_text(meta.pixel_divisor)},
      {"mnistnet.input_layout", input_dims(loaded.model, options).second},
      {"mnistnet.input", input_description(loaded, options)},
      {"mnistnet.dataset", meta.dataset},
      {"mnistnet.config", config.dump()},
  };
}

}  // namespace mnistnet::onnx_export
