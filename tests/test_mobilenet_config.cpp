// configs/mobilenet.json builds with the parameter counts Keras reports for the same model.
#include <catch2/catch.hpp>
#include <filesystem>

#include "config/config_loader.h"
#include "model/model.h"
#include "model/summary_table.h"

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
