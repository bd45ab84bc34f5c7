// Every config in configs/ loads, builds, and has the parameter counts Keras reports.
#include <catch2/catch.hpp>
#include <filesystem>

#include "config/config_loader.h"
#include "gradient_check.h"
#include "model/model.h"
#include "model/model_file.h"
#include "model/summary_table.h"
#include "synthetic_idx.h"

using namespace mnistnet;

namespace {

const std::filesystem::path kConfigs = std::filesystem::path(MNISTNET_SOURCE_DIR) / "configs";

ParamCounts params_of(const std::string& name) {
  Config c = load_config((kConfigs / (name + ".json")).string());
  Model m = Model::build(c.model, c.seed);
  return count_params(m);
}

}  // namespace

TEST_CASE("Every shipped config loads and builds", "[configs]") {
  int count = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(kConfigs)) {
    if (entry.path().extension() != ".json" || entry.path().parent_path() != kConfigs) continue;
    INFO(entry.path());
    Config c = load_config(entry.path().string());
    CHECK_NOTHROW(Model::build(c.model, c.seed));
    ++count;
  }
  CHECK(count >= 12);
}

TEST_CASE("Shipped configs have the codelab's parameter counts", "[configs]") {
  CHECK(params_of("dense1").trainable == 7850);
  CHECK(params_of("dense2").trainable == 169670);
  CHECK(params_of("dense_dropout").trainable ==
        784 * 200 + 200 + 200 * 100 + 100 + 100 * 60 + 60 + 610);
  CHECK(params_of("conv").trainable == 354002);
  const ParamCounts bn = params_of("conv_bn");
  CHECK(bn.trainable == 708362);
  CHECK(bn.non_trainable == 672);  // moving mean and variance of 24 + 48 + 64 + 200 channels
}

TEST_CASE("Fashion configs differ from the MNIST ones only in the data set", "[configs]") {
  for (const char* name :
       {"dense1", "dense2", "dense_dropout", "conv", "conv_dropout", "conv_bn"}) {
    INFO(name);
    Config mnist = load_config((kConfigs / (std::string(name) + ".json")).string());
    Config fashion = load_config((kConfigs / ("fashion_" + std::string(name) + ".json")).string());
    CHECK(fashion.data.dataset == "fashion-mnist");
    auto a = mnist.resolved, b = fashion.resolved;
    a.erase("description");
    b.erase("description");
    b["data"]["dataset"] = "mnist";
    CHECK(a == b);
  }
}

TEST_CASE("A conv_bn model with trained statistics saves and loads with identical predictions",
          "[configs][model][file]") {
  mnistnet::testing::TempDir dir;
  Config c = load_config((kConfigs / "conv_bn.json").string());
  Model m = Model::build(c.model, c.seed);
  const int64_t batch = 8;
  const auto x = mnistnet::testing::random_vector(batch * 784, 3, 0.5f);
  // Training forwards move the batch-norm statistics away from their initial 0 and 1.
  for (int i = 0; i < 3; ++i) m.forward_logits(x.data(), batch, true);
  const float* before = m.predict(x.data(), batch);
  const std::vector<float> expected(before, before + batch * 10);
  save_model(dir.path / "conv_bn.mnn", m, {"conv_bn", "mnist", 256.0, 10000, {}});
  LoadedModel loaded = load_model(dir.path / "conv_bn.mnn");
  const float* after = loaded.model.predict(x.data(), batch);
  CHECK(std::equal(expected.begin(), expected.end(), after));
  bool moved = false;
  for (const ParamRef& p : loaded.model.params())
    if (p.name == "batch_normalization/moving_mean") moved = p.value[0] != 0.0f;
  CHECK(moved);
}
