#pragma once
// The metadata_props of an exported model: what a deployment needs to feed it and read it
// without mnistnet at hand (class names, the pixel scaling, the input layout), and where it
// came from (mnistnet's version, the model's config).
#include <string>
#include <utility>
#include <vector>

#include "export/onnx_export.h"

namespace mnistnet::onnx_export {

// Keys are "mnistnet.<name>"; values are plain text or JSON (class_names, config).
std::vector<std::pair<std::string, std::string>> export_metadata(LoadedModel& loaded,
                                                                 const OnnxExportOptions& options);

// One sentence on the input and output, e.g. "input: float32 [N, 1, 28, 28] = pixel byte /
// 256 (0 = background ...); output: ..." (also the model's doc_string).
std::string input_description(LoadedModel& loaded, const OnnxExportOptions& options);

}  // namespace mnistnet::onnx_export
