// mnistnet export: a saved model as an ONNX file, for ONNX Runtime, OpenCV's dnn module and
// the other runtimes (see src/export/onnx_export.h for what the graph takes and gives).
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/latest_run.h"
#include "core/atomic_file.h"
#include "core/errors.h"
#include "export/onnx_export.h"
#include "model/model_file.h"

namespace mnistnet {

int run_export(const ExportOptions& options) {
  const std::filesystem::path model_path = resolve_model_path(options.model);
  OnnxExportOptions o;
  if (options.layout == "nhwc") {
    o.layout = OnnxLayout::nhwc;
  } else if (options.layout != "nchw") {
    throw UserError("--layout: expected nchw or nhwc, got \"" + options.layout + "\"");
  }
  o.opset = options.opset;
  LoadedModel loaded = load_model(model_path);
  const std::string bytes = export_onnx(loaded, model_path.string(), o);
  std::filesystem::path out = options.out;
  if (out.empty()) out = std::filesystem::path(model_path).replace_extension(".onnx");
  write_file_atomically(out, bytes);
  if (!options.quiet) {
    std::printf("%s: %zu bytes, opset %lld, input %s\n", out.string().c_str(), bytes.size(),
                static_cast<long long>(o.opset), options.layout.c_str());
  }
  return 0;
}

}  // namespace mnistnet
