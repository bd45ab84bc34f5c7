#include "core/errors.h"
#include "export/layer_export.h"

namespace mnistnet::onnx_export {

const ExportTable& export_table() {
  static const ExportTable table = {
      {"Activation", export_activation_layer},
      {"Add", export_add},
      {"Average", export_average},
      {"AveragePooling2D", export_average_pooling},
      {"BatchNormalization", export_batch_norm},
      {"Concatenate", export_concatenate},
      {"Conv2D", export_conv2d},
      {"Cropping2D", export_cropping},
      {"Dense", export_dense},
      {"DepthwiseConv2D", export_depthwise_conv2d},
      {"Dropout", export_dropout},
      {"Flatten", export_flatten},
      {"GlobalAveragePooling2D", export_global_average_pooling},
      {"GlobalMaxPooling2D", export_global_max_pooling},
      {"LayerNormalization", export_layer_norm},
      {"LeakyReLU", export_leaky_relu_layer},
      {"MaxPooling2D", export_max_pooling},
      {"Maximum", export_maximum},
      {"Multiply", export_multiply},
      {"ReLU", export_relu_layer},
      {"Reshape", export_reshape},
      {"SeparableConv2D", export_separable_conv2d},
      {"SpatialDropout2D", export_dropout},  // inference keeps every channel: no node
      {"Subtract", export_subtract},
      {"ZeroPadding2D", export_zero_padding},
  };
  return table;
}

const ParamRef* LayerExport::param(const std::string& key) const {
  auto it = params.find(key);
  return it == params.end() ? nullptr : &it->second;
}

void LayerExport::fail(const std::string& what) const { throw UserError(where + ": " + what); }

}  // namespace mnistnet::onnx_export
