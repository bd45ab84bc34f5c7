#pragma once
// mnistnet model -> ONNX model (ONNX's own protobuf classes, from Debian's libonnx-dev).
//
// The exported graph takes float32 images, byte / pixel_divisor as in training, in
// [N, C, H, W] (the default, what ONNX runtimes expect) or mnistnet's own [N, H, W, C], N
// dynamic, and outputs the class probabilities [N, classes] (a softmax is appended when the
// model ends in logits, as `mnistnet predict` does). Inference only: Dropout is dropped and
// batch normalisation uses its moving statistics.
#include <cstdint>
#include <string>

#include "export/layer_export.h"
#include "model/model_file.h"

namespace mnistnet {

enum class OnnxLayout { nchw, nhwc };

struct OnnxExportOptions {
  OnnxLayout layout = OnnxLayout::nchw;
  int64_t opset = 17;  // ONNX's default domain; libonnx 1.12 knows up to 17
};

inline constexpr int64_t kMinOnnxOpset = 13;  // Softmax over one axis, Reshape's -1 ...
inline constexpr int64_t kMaxOnnxOpset = 17;

// The serialized ModelProto, after onnx::checker::check_model and a strict shape inference
// passed. `source` (the model file's path) starts every error message. Throws UserError for a
// layer or activation without an ONNX form, naming the layer; std::logic_error when the checker
// refuses what we built (our bug).
std::string export_onnx(LoadedModel& loaded, const std::string& source,
                        const OnnxExportOptions& options,
                        const onnx_export::ExportTable& table = onnx_export::export_table());

}  // namespace mnistnet
