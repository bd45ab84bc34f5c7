#include "serve/responses.h"

#include <charconv>
#include <nlohmann/json.hpp>
#include <vector>

#include "serve/class_scores.h"
#include "serve/model_store.h"

namespace mnistnet {
namespace {

using ordered_json = nlohmann::ordered_json;

void append_float(std::string& out, float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

ordered_json tensor_info(const std::string& name, const Shape& shape) {
  ordered_json dims = ordered_json::array();
  dims.push_back({{"size", "-1"}, {"name", ""}});  // the batch
  for (int64_t d : shape) dims.push_back({{"size", std::to_string(d)}, {"name", ""}});
  return {{"dtype", "DT_FLOAT"},
          {"tensor_shape", {{"dim", dims}, {"unknown_rank", false}}},
          {"name", name}};
}

}  // namespace

std::string status_json(const ServedModel& model) {
  ordered_json status = {{"version", std::to_string(model.version)},
                         {"state", "AVAILABLE"},
                         {"status", {{"error_code", "OK"}, {"error_message", ""}}}};
  return ordered_json{{"model_version_status", ordered_json::array({status})}}.dump(1);
}

std::string metadata_json(const ServedModel& model, const std::string& name) {
  const Model& m = model.loaded.model;
  ordered_json signature = {
      {"inputs",
       {{model.signature.input_name, tensor_info(model.signature.input_name, m.input_shape())}}},
      {"outputs", {{"probabilities", tensor_info("probabilities", Shape{m.num_outputs()})}}},
      {"method_name", "tensorflow/serving/predict"}};
  ordered_json classes = ordered_json::array();
  for (int64_t i = 0; i < m.num_outputs(); ++i) classes.push_back(class_name(model.loaded.meta, i));
  ordered_json out = {
      {"model_spec",
       {{"name", name}, {"signature_name", ""}, {"version", std::to_string(model.version)}}},
      {"metadata",
       {{"signature_def", {{"signature_def", {{"serving_default", signature}}}}},
        // Beyond TensorFlow Serving's fields: what a client needs to read the answers.
        {"class_names", classes},
        {"pixel_range", {0, 255}},
        {"accepts_images", model.signature.takes_images()}}}};
  return out.dump(1, ' ', false, ordered_json::error_handler_t::replace);
}

std::string predict_json(const float* probabilities, int64_t count, int64_t classes,
                         RequestFormat format) {
  std::string out = format == RequestFormat::row ? "{\"predictions\":[" : "{\"outputs\":[";
  out.reserve(out.size() + static_cast<size_t>(count * classes) * 14 + 4);
  for (int64_t i = 0; i < count; ++i) {
    out += i == 0 ? "[" : ",[";
    for (int64_t j = 0; j < classes; ++j) {
      if (j > 0) out += ',';
      append_float(out, probabilities[i * classes + j]);
    }
    out += ']';
  }
  out += "]}";
  return out;
}

std::string classify_json(const ServedModel& model, const float* probabilities, int64_t count,
                          int64_t classes) {
  std::vector<std::string> labels;
  for (int64_t j = 0; j < classes; ++j) {
    labels.push_back(ordered_json(class_name(model.loaded.meta, j))
                         .dump(-1, ' ', false, ordered_json::error_handler_t::replace));
  }
  std::string out = "{\"result\":[";
  for (int64_t i = 0; i < count; ++i) {
    const float* p = probabilities + i * classes;
    const auto top = top_classes(std::vector<float>(p, p + classes), classes);
    out += i == 0 ? "[" : ",[";
    for (size_t k = 0; k < top.size(); ++k) {
      out += k == 0 ? "[" : ",[";
      out += labels[static_cast<size_t>(top[k].index)];
      out += ',';
      append_float(out, top[k].score);
      out += ']';
    }
    out += ']';
  }
  out += "]}";
  return out;
}

std::string error_json(const std::string& message) {
  return ordered_json{{"error", message}}.dump(-1, ' ', false,
                                               ordered_json::error_handler_t::replace);
}

}  // namespace mnistnet
