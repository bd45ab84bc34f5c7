// Model assembly, Keras summary counts, end-to-end gradients, and the model file.
#include <catch2/catch.hpp>
#include <fstream>

#include "config/config_loader.h"
#include "core/errors.h"
#include "model/loss.h"
#include "model/model.h"
#include "model/model_file.h"
#include "model/summary_table.h"
#include "synthetic_idx.h"
#include "text_file.h"

using namespace mnistnet;
using Catch::Contains;
using mnistnet::testing::TempDir;
using mnistnet::testing::write_text;

namespace {

ModelSpec spec_of(const std::string& json) {
  return parse_model_spec(nlohmann::json::parse(json), "test.json", "/model");
}

const char* kDense2 = R"({"input_shape": [784], "layers": [
  {"type": "Dense", "units": 200, "activation": "relu"},
  {"type": "Dense", "units": 60, "activation": "relu"},
  {"type": "Dense", "units": 10, "activation": "softmax"}]})";

}  // namespace

TEST_CASE("Summary gives Keras names, shapes and parameter counts", "[model][summary]") {
  Model m = Model::build(spec_of(kDense2), 1);
  auto rows = m.summary_rows();
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].name == "dense");
  CHECK(rows[2].name == "dense_2");
  CHECK(rows[1].output == Shape{60});
  CHECK(rows[0].params == 784 * 200 + 200);
  const std::string table = summary_table(m, "dense2");
  CHECK_THAT(table, Contains("Total params: 169,670") && Contains("dense_1 (Dense)") &&
                        Contains("(None, 60)"));
  Model one = Model::build(spec_of(R"({"input_shape": [28, 28, 1], "layers": [{"type": "Flatten"},
      {"type": "Dense", "units": 10, "activation": "softmax"}]})"),
                           1);
  CHECK(count_params(one).trainable == 7850);
}

TEST_CASE("Whole-model gradient through the fused loss matches finite differences",
          "[model][gradient]") {
  Model m = Model::build(spec_of(R"({"input_shape": [6], "layers": [
      {"type": "Dense", "units": 5, "activation": "tanh"},
      {"type": "Dense", "units": 4, "activation": "sigmoid"},
      {"type": "Dense", "units": 3, "activation": "softmax"}]})"),
                         3);
  const int64_t batch = 4;
  std::vector<float> x(6 * batch);
  Rng rng(5);
  for (float& v : x) v = rng.uniform() * 2 - 1;
  const int32_t labels[] = {0, 2, 1, 2};
  auto loss = [&] {
    const float* logits = m.forward_logits(x.data(), batch, true);
    return softmax_cross_entropy(logits, labels, batch, 3, nullptr).loss / batch;
  };
  const float* logits = m.forward_logits(x.data(), batch, true);
  softmax_cross_entropy(logits, labels, batch, 3, m.logits_grad());
  m.backward(batch);
  for (ParamRef& p : m.params()) {
    std::vector<float> analytic(p.grad, p.grad + p.size());
    for (size_t i = 0; i < analytic.size(); ++i) {
      const float saved = p.value[i];
      p.value[i] = saved + 1e-2f;
      const double plus = loss();
      p.value[i] = saved - 1e-2f;
      const double minus = loss();
      p.value[i] = saved;
      INFO(p.name << "[" << i << "]");
      CHECK(analytic[i] == Approx((plus - minus) / 2e-2).margin(2e-3));
    }
  }
}

TEST_CASE("Same seed, same weights, another seed, other weights", "[model]") {
  Model a = Model::build(spec_of(kDense2), 9), b = Model::build(spec_of(kDense2), 9),
        c = Model::build(spec_of(kDense2), 10);
  auto pa = a.params(), pb = b.params(), pc = c.params();
  CHECK(std::equal(pa[0].value, pa[0].value + pa[0].size(), pb[0].value));
  CHECK_FALSE(std::equal(pa[0].value, pa[0].value + pa[0].size(), pc[0].value));
  // glorot_uniform limit for 784 -> 200
  const float limit = std::sqrt(6.0f / (784 + 200));
  CHECK(*std::max_element(pa[0].value, pa[0].value + pa[0].size()) <= limit);
  CHECK(*std::min_element(pa[0].value, pa[0].value + pa[0].size()) >= -limit);
  CHECK(pa[1].value[0] == 0.0f);  // zero bias
}

TEST_CASE("A saved model loads back with identical predictions", "[model][file]") {
  TempDir dir;
  Model m = Model::build(spec_of(kDense2), 4);
  std::vector<float> x(784 * 3);
  Rng rng(2);
  for (float& v : x) v = rng.uniform();
  const float* before = m.predict(x.data(), 3);
  std::vector<float> expected(before, before + 30);
  save_model(dir.path / "m.mnn", m, {"dense2", "mnist", 256.0, 10000, {}});
  LoadedModel loaded = load_model(dir.path / "m.mnn");
  const float* after = loaded.model.predict(x.data(), 3);
  CHECK(std::equal(expected.begin(), expected.end(), after));
  CHECK(loaded.meta.name == "dense2");
  CHECK(loaded.meta.pixel_divisor == 256.0);
}

TEST_CASE("A model file's image preparation loads as saved and saves back byte for byte",
          "[model][file]") {
  TempDir dir;
  Model m = Model::build(spec_of(kDense2), 4);
  const auto bytes_of = [](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  // The header names the preprocessing only when it is not the default for the images.
  const ModelMeta digits{"dense2", "mnist", 256.0, 10000, {}};
  ModelMeta resize = digits, wide_digits = digits;
  resize.image.preprocessing = ImagePreprocessing::resize;
  wide_digits.image.image_shape = {16, 49, 1};  // a default of "resize"
  for (const auto& [meta, written] : {std::pair{digits, ""}, std::pair{resize, "\"resize\""},
                                      std::pair{wide_digits, "\"digits\""}}) {
    INFO(written);
    save_model(dir.path / "a.mnn", m, meta);
    const std::string saved = bytes_of(dir.path / "a.mnn");
    if (*written == '\0') {
      CHECK(saved.find("\"preprocessing\"") == std::string::npos);
    } else {
      CHECK_THAT(saved, Contains(std::string("\"preprocessing\":") + written));
    }
    LoadedModel loaded = load_model(dir.path / "a.mnn");
    CHECK(loaded.meta.image.preprocessing == meta.image.preprocessing);
    CHECK(loaded.meta.image.image_shape == meta.image.image_shape);
    save_model(dir.path / "b.mnn", loaded.model, loaded.meta);
    CHECK(bytes_of(dir.path / "b.mnn") == saved);
  }
}

TEST_CASE("Corrupt, truncated or foreign model files are clear errors", "[model][file][errors]") {
  TempDir dir;
  Model m = Model::build(spec_of(kDense2), 4);
  const auto path = dir.path / "m.mnn";
  save_model(path, m, {"dense2", "mnist", 256.0, 10000, {}});
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto with = [&](const std::string& content) {
    const auto p = dir.path / "bad.mnn";
    std::ofstream(p, std::ios::binary) << content;
    return p;
  };
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x40;
  REQUIRE_THROWS_AS(load_model(with(flipped)), ModelFileError);
  REQUIRE_THROWS_WITH(load_model(with(flipped)), Contains("bad.mnn: checksum mismatch"));
  REQUIRE_THROWS_WITH(load_model(with(bytes.substr(0, bytes.size() - 100))),
                      Contains("checksum mismatch"));
  REQUIRE_THROWS_WITH(load_model(with("hello")),
                      Contains("bad.mnn: byte 0: not an mnistnet model file"));
  REQUIRE_THROWS_WITH(load_model(with("")), Contains("not an mnistnet model file"));
  std::string version = bytes;
  version[8] = 9;
  REQUIRE_THROWS_WITH(load_model(with(version)), Contains("byte 8: model format version 9"));
  REQUIRE_THROWS_WITH(load_model(dir.path / "none.mnn"),
                      Contains("none.mnn: cannot open") && Contains("does not exist"));
}

TEST_CASE("Default layer names follow Keras", "[model][summary]") {
  Model m = Model::build(spec_of(R"({"input_shape": [8, 8, 1], "layers": [
      {"type": "Conv2D", "filters": 2, "kernel_size": 3},
      {"type": "BatchNormalization"},
      {"type": "MaxPooling2D"},
      {"type": "Conv2D", "filters": 2, "kernel_size": 2},
      {"type": "GlobalAveragePooling2D"},
      {"type": "Dense", "units": 3, "activation": "softmax"}]})"),
                         1);
  std::vector<std::string> names;
  for (const auto& row : m.summary_rows()) names.push_back(row.name);
  CHECK(names == std::vector<std::string>{"conv2d", "batch_normalization", "max_pooling2d",
                                          "conv2d_1", "global_average_pooling2d", "dense"});
}
