// configs/mobilenet.json builds with the parameter counts Keras reports for the same model, and
// a model of the new layers saves and loads with identical predictions.
#include <catch2/catch.hpp>
#include <filesystem>

#include "config/config_loader.h"
#include "gradient_check.h"
#include "model/model.h"
#include "model/model_file.h"
#include "model/summary_table.h"
#include "synthetic_idx.h"

using namespace mnistnet;

TEST_CASE("mobilenet.json has Keras's parameter counts", "[configs][depthwise]") {
  const auto path = std::filesystem::path(MNISTNET_SOURCE_DIR) / "configs" / "mobilenet.json";
  Config c = load_config(path.string());
  Model m = Model::build(c.model, c.seed);
  const ParamCounts counts = count_params(m);
  // Kernels: stem 3*3*16; depthwise 3*3*16, pointwise 16*32; depthwise 3*3*32, pointwise 32*64;
  // separable 3*3*64 + 64*64, 3*3*64 + 64*128, 3*3*128 + 128*128; dense 128*10 + 10.
  const int64_t kernels =
      144 + 144 + 512 + 288 + 2048 + (576 + 4096) + (576 + 8192) + (1152 + 16384) + 1290;
  const int64_t bn_channels = 16 + 16 + 32 + 32 + 64 + 64 + 128 + 128;
  CHECK(counts.trainable == kernels + 2 * bn_channels);  // gamma and beta
  CHECK(counts.non_trainable == 2 * bn_channels);        // moving mean and variance
}

TEST_CASE("A model of the new layers saves and loads with identical predictions",
          "[configs][model][file][depthwise]") {
  mnistnet::testing::TempDir dir;
  const auto spec = parse_model_spec(nlohmann::json::parse(R"({"input_shape": [784], "layers": [
      {"type": "Reshape", "target_shape": [28, 28, 1]},
      {"type": "ZeroPadding2D", "padding": [[1, 0], [0, 1]]},
      {"type": "Cropping2D", "cropping": 1},
      {"type": "Conv2D", "filters": 4, "kernel_size": 3, "strides": 2, "activation": "gelu"},
      {"type": "DepthwiseConv2D", "kernel_size": 3, "depth_multiplier": 2, "padding": "same",
       "activation": "swish"},
      {"type": "BatchNormalization"},
      {"type": "ReLU", "max_value": 6},
      {"type": "SeparableConv2D", "filters": 8, "kernel_size": 3, "activation": "elu"},
      {"type": "LayerNormalization"},
      {"type": "LeakyReLU"},
      {"type": "SpatialDropout2D", "rate": 0.3},
      {"type": "GlobalMaxPooling2D"},
      {"type": "Dense", "units": 10, "activation": "softmax"}]})"),
                                     "t.json", "/model");
  Model m = Model::build(spec, 5);
  const int64_t batch = 6;
  const auto x = mnistnet::testing::random_vector(batch * 784, 3, 0.5f);
  for (int i = 0; i < 3; ++i) m.forward_logits(x.data(), batch, true);
  const float* before = m.predict(x.data(), batch);
  const std::vector<float> expected(before, before + batch * 10);
  save_model(dir.path / "m.mnn", m, {"m", "mnist", 256.0, 10000, {}});
  LoadedModel loaded = load_model(dir.path / "m.mnn");
  const float* after = loaded.model.predict(x.data(), batch);
  CHECK(std::equal(expected.begin(), expected.end(), after));
}
