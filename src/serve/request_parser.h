#pragma once
// The bodies of TensorFlow Serving's POST :predict and :classify -> a batch of examples, every
// error a RequestError with a 4xx status and one line naming the JSON pointer and what was
// expected. A pure function of the body and the model's input signature (fuzzed by
// tests/fuzz/fuzz_serve_request.cpp).
//
// An example is one of:
//   - nested arrays in the model's input shape ([28][28][1]), or that shape without its
//     trailing 1s ([28][28]), or flat (784 numbers); a model of 784 inputs takes [28][28][1]
//     and [28][28] whatever its input_shape (conv_bn's is [784], reshaped inside);
//   - {"b64": "..."}: a PNG/JPEG/BMP/PGM file, prepared as `predict` prepares it for this model
//     (src/image/model_image.h), for models whose input is their images;
//   - in the row format, an object {"images": <either of the above>} naming the input.
// Pixels are what an image holds: numbers 0..255 (the server applies the model's scaling).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/shape.h"
#include "image/model_image.h"

namespace mnistnet {

class RequestError : public std::runtime_error {
 public:
  RequestError(int status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// What a request must match: the served model's input.
struct InputSignature {
  Shape shape;             // one example, as the model declares it
  int64_t size = 0;        // element_count(shape)
  ImagePreparation image;  // how an image becomes an example
  // Why {"b64": image} examples are refused (image_input_mismatch), "" when they are taken.
  std::string image_mismatch = "the model takes no images";
  std::string input_name = "images";        // the input's name in metadata and named instances
  int64_t max_examples = int64_t{1} << 16;  // per request

  bool takes_images() const { return image_mismatch.empty(); }
};

// Images are taken when `image` (the model file's ModelMeta::image) prepares them as the
// model's input, the rule predict applies too (image_input_mismatch).
InputSignature make_input_signature(const Shape& input_shape, const ImagePreparation& image);

enum class RequestFormat { row, columnar };

struct ExampleBatch {
  RequestFormat format = RequestFormat::row;
  int64_t count = 0;
  std::vector<float> pixels;  // [count, signature.size], 0..255 as sent
};

// {"instances": [...]} or {"inputs": ...}, optionally "signature_name".
ExampleBatch parse_predict_request(std::string_view body, const InputSignature& signature);

// {"examples": [{"<feature>": <example>}, ...]}, optionally "signature_name"; one feature each.
ExampleBatch parse_classify_request(std::string_view body, const InputSignature& signature);

}  // namespace mnistnet
