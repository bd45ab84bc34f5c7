#include "serve/request_parser.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "image/digit_preprocess.h"
#include "image/image_decoder.h"
#include "serve/base64.h"

namespace mnistnet {
namespace {

using json = nlohmann::json;

RequestError bad(const std::string& message) { return RequestError(400, message); }

std::string type_name(const json& v) {
  if (v.is_boolean()) return "a boolean";
  if (v.is_null()) return "null";
  if (v.is_string()) return "a string";
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  return "a number";
}

// The shapes an example may come in: the model's, without its trailing 1s, flat, and for a
// model of 784 inputs (an MNIST model, whatever its input_shape) the image's 28x28(x1).
std::vector<Shape> accepted_shapes(const Shape& shape, int64_t size) {
  std::vector<Shape> out;
  auto add = [&out](const Shape& s) {
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  add(shape);
  Shape squeezed = shape;
  while (squeezed.size() > 1 && squeezed.back() == 1) squeezed.pop_back();
  add(squeezed);
  if (size == kDigitPixels) {
    add({kDigitSide, kDigitSide, 1});
    add({kDigitSide, kDigitSide});
  }
  add({size});
  return out;
}

std::string shapes_text(const std::vector<Shape>& shapes) {
  std::string s;
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (i > 0) s += i + 1 == shapes.size() ? " or " : ", ";
    s += shape_string(shapes[i]);
  }
  return s;
}

class ExampleReader {
 public:
  ExampleReader(const InputSignature& signature, ExampleBatch& batch)
      : sig_(signature), batch_(batch), shapes_(accepted_shapes(signature.shape, signature.size)) {}

  void reserve(size_t examples) {  // capped: a list's length is the sender's claim
    batch_.pixels.reserve(std::min<size_t>(examples, 1024) * static_cast<size_t>(sig_.size));
  }

  // Appends one example, `v` at JSON pointer `where`.
  void read(const json& v, const std::string& where, bool allow_named) {
    if (batch_.count >= sig_.max_examples) {
      throw RequestError(413, where + ": more than " + std::to_string(sig_.max_examples) +
                                  " examples in one request");
    }
    if (v.is_object()) {
      if (v.size() == 1 && v.contains("b64")) return read_image(v["b64"], where + "/b64");
      if (allow_named && v.size() == 1 && v.contains(sig_.input_name))
        return read(v[sig_.input_name], where + "/" + sig_.input_name, false);
      throw bad(where + ": expected an array of pixels, {\"b64\": image}" +
                (allow_named ? " or {\"" + sig_.input_name + "\": ...}" : std::string()) +
                "; got an object with keys " + keys(v));
    }
    if (!v.is_array()) {
      throw bad(where + ": expected an array of pixels in the shape " + shapes_text(shapes_) +
                " or {\"b64\": image}; got " + type_name(v));
    }
    Shape shape;
    for (const json* p = &v; p->is_array(); p = &(*p)[0]) {
      shape.push_back(static_cast<int64_t>(p->size()));
      if (p->empty()) break;
    }
    if (std::find(shapes_.begin(), shapes_.end(), shape) == shapes_.end()) {
      throw bad(where + ": an example of shape " + shape_string(shape) + "; the model takes " +
                shapes_text(shapes_));
    }
    std::vector<size_t> path(shape.size(), 0);
    append(v, shape, 0, path, where);
    ++batch_.count;
  }

 private:
  static std::string keys(const json& v) {
    std::string s;
    for (auto it = v.begin(); it != v.end(); ++it)
      s += (s.empty() ? "\"" : ", \"") + it.key() + "\"";
    return s.empty() ? "(none)" : s;
  }

  // Pointers are built only for an error message: the happy path costs no strings.
  static std::string pointer(const std::string& where, const std::vector<size_t>& path,
                             size_t depth) {
    std::string s = where;
    for (size_t i = 0; i < depth; ++i) s += "/" + std::to_string(path[i]);
    return s;
  }

  void append(const json& v, const Shape& shape, size_t depth, std::vector<size_t>& path,
              const std::string& where) {
    if (depth == shape.size()) {
      if (!v.is_number()) {
        throw bad(pointer(where, path, depth) + ": expected a pixel value 0..255, got " +
                  type_name(v));
      }
      const double x = v.get<double>();
      if (!std::isfinite(x) || x < 0.0 || x > 255.0) {
        throw bad(pointer(where, path, depth) + ": pixel value " + v.dump() + " is outside 0..255");
      }
      batch_.pixels.push_back(static_cast<float>(x));
      return;
    }
    if (!v.is_array() || static_cast<int64_t>(v.size()) != shape[depth]) {
      throw bad(pointer(where, path, depth) + ": expected an array of " +
                std::to_string(shape[depth]) +
                " (the example's rows must all have the same length), got " +
                (v.is_array() ? "an array of " + std::to_string(v.size()) : type_name(v)));
    }
    for (size_t i = 0; i < v.size(); ++i) {
      path[depth] = i;
      append(v[i], shape, depth + 1, path, where);
    }
  }

  void read_image(const json& v, const std::string& where) {
    if (!sig_.takes_images()) {
      throw bad(where + ": this model takes " + shape_string(sig_.shape) +
                " inputs, not images; send the pixels");
    }
    if (!v.is_string()) throw bad(where + ": expected a base64 string, got " + type_name(v));
    const Base64Result decoded = decode_base64(v.get_ref<const std::string&>());
    if (!decoded.error.empty()) throw bad(where + ": invalid base64: " + decoded.error);
    ImageLimits limits;
    limits.max_side = 8192;
    limits.max_pixels = int64_t{4} << 20;  // a request's image costs at most 16 MiB decoded
    try {
      for (uint8_t p : prepare_image(decoded.bytes, where, sig_.image, limits))
        batch_.pixels.push_back(static_cast<float>(p));
    } catch (const ImageError& e) {
      throw bad(e.what());
    } catch (const std::bad_alloc&) {
      throw RequestError(413, where + ": not enough memory to decode the image");
    }
    ++batch_.count;
  }

  const InputSignature& sig_;
  ExampleBatch& batch_;
  std::vector<Shape> shapes_;
};

// Where the first number of more than 308 decimal orders of magnitude starts (nlohmann's
// overflow error does not say).
size_t number_overflow_offset(std::string_view body) {
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c != '-' && (c < '0' || c > '9')) continue;
    size_t end = i;
    while (end < body.size() &&
           std::string_view("+-.eE0123456789").find(body[end]) != std::string_view::npos)
      ++end;
    const std::string number(body.substr(i, end - i));
    char* stop = nullptr;
    const double v = std::strtod(number.c_str(), &stop);
    if (std::isinf(v)) return i;
    i = end;
  }
  return 0;
}

json parse_body(std::string_view body) {
  try {
    return json::parse(body.begin(), body.end());
  } catch (const json::parse_error& e) {
    // TensorFlow Serving's parser takes NaN and Infinity; they are never pixels, so say so.
    const size_t at = e.byte > 0 ? static_cast<size_t>(e.byte - 1) : 0;
    const size_t from = at > 9 ? at - 9 : 0;
    const std::string_view near = body.substr(std::min(from, body.size()), 19);
    if (near.find("NaN") != std::string_view::npos || near.find("Inf") != std::string_view::npos) {
      throw bad("JSON Parse error: byte " + std::to_string(at) +
                ": NaN and Infinity are not pixel values (numbers 0..255)");
    }
    throw bad(std::string("JSON Parse error: ") + e.what());
  } catch (const json::out_of_range&) {  // a number beyond double's range, such as 1e999
    const size_t at = number_overflow_offset(body);
    throw bad("JSON Parse error: byte " + std::to_string(at) +
              ": a number too large for a pixel (0..255)");
  }
}

void check_signature_name(const json& request) {
  const auto it = request.find("signature_name");
  if (it == request.end()) return;
  if (!it->is_string()) throw bad("/signature_name: expected a string, got " + type_name(*it));
  const auto& name = it->get_ref<const std::string&>();
  if (!name.empty() && name != "serving_default") {
    throw bad("Serving signature name: \"" + name + "\" not found in signature def");
  }
}

const json& request_object(const json& request) {
  if (!request.is_object())
    throw bad("the request body must be a JSON object, got " + type_name(request));
  return request;
}

void read_list(const json& list, const std::string& where, ExampleReader& reader, bool named) {
  if (!list.is_array()) {
    throw bad(where + ": expected a list of examples, got " + type_name(list));
  }
  if (list.empty()) throw bad(where + ": no examples");
  reader.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i)
    reader.read(list[i], where + "/" + std::to_string(i), named);
}

}  // namespace

InputSignature make_input_signature(const Shape& input_shape, const ImagePreparation& image) {
  InputSignature s;
  s.shape = input_shape;
  s.size = element_count(input_shape);
  s.image = image;
  s.image_mismatch = image_input_mismatch(image, input_shape);
  return s;
}

ExampleBatch parse_predict_request(std::string_view body, const InputSignature& signature) {
  const json request = parse_body(body);
  request_object(request);
  for (auto it = request.begin(); it != request.end(); ++it) {
    if (it.key() != "instances" && it.key() != "inputs" && it.key() != "signature_name")
      throw bad("/" + it.key() + ": unknown key (expected \"instances\" or \"inputs\")");
  }
  check_signature_name(request);
  const bool rows = request.contains("instances"), columns = request.contains("inputs");
  if (rows == columns) {
    throw bad(rows ? "the request has both \"instances\" and \"inputs\"; send one of them"
                   : "the request needs \"instances\" (row format) or \"inputs\" (columnar)");
  }
  ExampleBatch batch;
  ExampleReader reader(signature, batch);
  if (rows) {
    batch.format = RequestFormat::row;
    read_list(request["instances"], "/instances", reader, true);
  } else {
    batch.format = RequestFormat::columnar;
    const json& inputs = request["inputs"];
    if (inputs.is_object() && !inputs.contains("b64")) {
      if (inputs.size() != 1 || !inputs.contains(signature.input_name)) {
        throw bad("/inputs: the model has one input, \"" + signature.input_name + "\"");
      }
      read_list(inputs[signature.input_name], "/inputs/" + signature.input_name, reader, false);
    } else {
      read_list(inputs, "/inputs", reader, false);
    }
  }
  return batch;
}

ExampleBatch parse_classify_request(std::string_view body, const InputSignature& signature) {
  const json request = parse_body(body);
  request_object(request);
  for (auto it = request.begin(); it != request.end(); ++it) {
    if (it.key() == "context") {
      throw bad("/context: the model has one feature; put it in each example");
    }
    if (it.key() != "examples" && it.key() != "signature_name")
      throw bad("/" + it.key() + ": unknown key (expected \"examples\")");
  }
  check_signature_name(request);
  if (!request.contains("examples")) throw bad("the request needs \"examples\"");
  const json& examples = request["examples"];
  if (!examples.is_array()) throw bad("/examples: expected a list, got " + type_name(examples));
  if (examples.empty()) throw bad("/examples: no examples");
  ExampleBatch batch;
  ExampleReader reader(signature, batch);
  for (size_t i = 0; i < examples.size(); ++i) {
    const std::string where = "/examples/" + std::to_string(i);
    const json& e = examples[i];
    if (!e.is_object() || e.size() != 1) {
      throw bad(where + ": expected an object with one feature, e.g. {\"" + signature.input_name +
                "\": [...]}, got " +
                (e.is_object() ? std::to_string(e.size()) + " features" : type_name(e)));
    }
    reader.read(e.begin().value(), where + "/" + e.begin().key(), false);
  }
  return batch;
}

}  // namespace mnistnet
