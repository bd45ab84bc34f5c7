#include "core/errors.h"
#include "export/layer_export.h"

namespace mnistnet::onnx_export {

const ExportTable& export_table() {
  static const ExportTable table = {
      {"Activation", export_activation_layer},
      {"AveragePooling2D", export_average_pooling},
      {"BatchNormalization", export_batch_norm},
      {"Conv2D", export_conv2d},
      {"Dense", export_dense},
      {"Dropout", export_dropout},
      {"Flatten", export_flatten},
      {"GlobalAveragePooling2D", export_global_average_pooling},
      {"MaxPooling2D", export_max_pooling},
      {"Reshape", export_reshape},
  };
  return table;
}

const ParamRef* LayerExport::param(const std::string& key) const {
  auto it = params.find(key);
  return it == params.end() ? nullptr : &it->second;
}

void LayerExport::fail(const std::string& what) const { throw UserError(where + ": " + what); }

}  // namespace mnistnet::onnx_export
