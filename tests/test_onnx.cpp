// Exported models against two runtimes nobody here wrote: ONNX Runtime and OpenCV's dnn. For
// every shipped config (trained a few steps, so batch-norm statistics are not the initial 0
// and 1) and for random models, 1,000 inputs: the probabilities agree with mnistnet's own
// inference to 1e-5 (ONNX Runtime) and the arg-max agrees everywhere.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "config/config_loader.h"
#include "core/errors.h"
#include "core/rng.h"
#include "layers/activation.h"
#include "layers/registry.h"
#include "model/loss.h"
#include "model/model_file.h"
#include "onnx/runtimes.h"
#include "optim/optimizer.h"
#include "synthetic_idx.h"

using namespace mnistnet;
using namespace mnistnet::testing;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kInputs = 1000;
// Enough random models that every layer type is drawn (the test checks it).
constexpr size_t kRandomModels = 40;

struct ExportCase {
  std::string name;
  fs::path onnx;
  std::vector<int64_t> onnx_shape;  // the ONNX input's dims
  std::vector<float> onnx_input;    // in that layout
  std::vector<float> expected;      // mnistnet's probabilities [kInputs, classes]
  int64_t classes = 0;
};

// Pixel-like inputs: bytes / 256, two thirds of them background.
std::vector<float> pixel_inputs(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) {
    const double u = rng.uniform();
    v = u < 0.66 ? 0.0f : static_cast<float>(std::floor(rng.uniform() * 256.0) / 256.0);
  }
  return x;
}

// A few optimizer steps on random labels: the weights move off their initialisation and the
// batch-norm moving statistics off 0 and 1.
void train_a_few_steps(Model& model, const OptimizerSpec& spec, uint64_t seed) {
  const int64_t batch = 32;
  model.reserve(batch);
  auto optimizer = make_optimizer(spec);
  optimizer->attach(model.params());
  Rng rng(seed);
  for (uint64_t step = 0; step < 5; ++step) {
    const std::vector<float> x = pixel_inputs(batch * model.input_size(), seed + 100 + step);
    std::vector<int32_t> labels(batch);
    for (int32_t& l : labels)
      l = static_cast<int32_t>(rng.uniform() * static_cast<double>(model.num_outputs()));
    const float* logits = model.forward_logits(x.data(), batch, true);
    softmax_cross_entropy(logits, labels.data(), batch, model.num_outputs(), model.logits_grad());
    model.backward(batch);
    optimizer->step(static_cast<float>(spec.learning_rate));
  }
}

// mnistnet's probabilities, as `predict` computes them (a softmax when the model has none).
std::vector<float> mnistnet_probabilities(Model& model, const std::vector<float>& x) {
  const int64_t classes = model.num_outputs();
  const float* y = model.predict(x.data(), kInputs);
  std::vector<float> p(y, y + kInputs * classes);
  if (model.ends_with_softmax()) return p;
  for (int64_t i = 0; i < kInputs; ++i) {
    float* row = p.data() + i * classes;
    const float top = *std::max_element(row, row + classes);
    double sum = 0.0;
    for (int64_t c = 0; c < classes; ++c) sum += (row[c] = std::exp(row[c] - top));
    for (int64_t c = 0; c < classes; ++c) row[c] = static_cast<float>(row[c] / sum);
  }
  return p;
}

// Saves `model`, exports it with the real `mnistnet export`, and records what it must give.
ExportCase export_case(const std::string& name, Model& model, const fs::path& dir,
                       const std::string& layout, uint64_t seed) {
  ExportCase c;
  c.name = name + (layout == "nchw" ? "" : " (" + layout + ")");
  const fs::path mnn = dir / (name + ".mnn");
  save_model(mnn, model, {name, "mnist", 256.0, 10000, {}});
  c.onnx = dir / (name + "-" + layout + ".onnx");
  const CliResult r = run_cli("export --model '" + mnn.string() + "' --out '" + c.onnx.string() +
                                  "' --layout " + layout + " -q",
                              dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  LoadedModel loaded = load_model(mnn);  // as a user's runtime would see the file
  const std::vector<float> x = pixel_inputs(kInputs * loaded.model.input_size(), seed);
  c.expected = mnistnet_probabilities(loaded.model, x);
  c.classes = loaded.model.num_outputs();
  Shape image = loaded.model.input_shape();
  if (image.size() == 1 && image[0] == 784) image = {28, 28, 1};
  c.onnx_shape = {kInputs};
  if (image.size() == 3 && layout == "nchw") {
    c.onnx_shape.insert(c.onnx_shape.end(), {image[2], image[0], image[1]});
    const int64_t h = image[0], w = image[1], ch = image[2];
    c.onnx_input.resize(x.size());
    for (int64_t n = 0; n < kInputs; ++n)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t xx = 0; xx < w; ++xx)
          for (int64_t k = 0; k < ch; ++k)
            c.onnx_input[static_cast<size_t>(((n * ch + k) * h + y) * w + xx)] =
                x[static_cast<size_t>(((n * h + y) * w + xx) * ch + k)];
  } else {
    c.onnx_shape.insert(c.onnx_shape.end(), image.begin(), image.end());
    c.onnx_input = x;
  }
  return c;
}

struct Agreement {
  double max_abs = 0.0;
  int64_t argmax_differ = 0;
};

Agreement compare(const ExportCase& c, const std::vector<float>& got) {
  Agreement a;
  REQUIRE(got.size() == c.expected.size());
  for (int64_t i = 0; i < kInputs; ++i) {
    const float* e = c.expected.data() + i * c.classes;
    const float* g = got.data() + i * c.classes;
    for (int64_t k = 0; k < c.classes; ++k)
      a.max_abs = std::max(a.max_abs, static_cast<double>(std::fabs(e[k] - g[k])));
    a.argmax_differ +=
        std::max_element(e, e + c.classes) - e != std::max_element(g, g + c.classes) - g;
  }
  return a;
}

// A random model over an {h, w, c} image: every layer type the engine has (convolutions,
// poolings, padding and cropping, normalisations, activation layers, a branch merged back by
// each merge layer) with random arguments, then Flatten or a global pooling, dense layers, and a
// softmax or logits. Returns nullopt when the random shapes do not fit (a window too large).
std::optional<Model> random_model(uint64_t seed) {
  Rng rng(seed);
  auto pick = [&](int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(rng.uniform() * static_cast<double>(hi - lo + 1));
  };
  auto coin = [&] { return rng.uniform() < 0.5; };
  // Every activation the engine has but softmax (which only ends a model here).
  std::vector<std::string> activations;
  for (const char* name : {MNISTNET_ACTIVATION_NAMES})
    if (std::string(name) != "softmax") activations.push_back(name);
  const auto n_act = static_cast<int64_t>(activations.size()) - 1;
  nlohmann::json layers = nlohmann::json::array();
  // Every layer is named, so that a merge can read the layer before its branch.
  const auto add = [&](nlohmann::json layer) {
    layer["name"] = "l" + std::to_string(layers.size());
    layers.push_back(std::move(layer));
  };
  const auto last = [&]() -> std::string {
    return layers.empty() ? "input" : layers.back()["name"].get<std::string>();
  };
  const auto activation = [&] { return activations[static_cast<size_t>(pick(0, n_act))]; };
  const auto window = [&](nlohmann::json layer) {
    layer["kernel_size"] = {pick(1, 4), pick(1, 4)};
    layer["strides"] = {pick(1, 3), pick(1, 3)};
    layer["padding"] = coin() ? "same" : "valid";
    layer["use_bias"] = coin();
    layer["activation"] = activation();
    return layer;
  };
  const auto sides = [&](int64_t most) {
    return nlohmann::json{{pick(0, most), pick(0, most)}, {pick(0, most), pick(0, most)}};
  };
  const Shape image{pick(5, 13), pick(5, 13), pick(1, 3)};
  int64_t channels = image[2];
  Shape input = image;
  if (coin()) {  // a flat input reshaped into the image, as the shipped conv configs do
    input = {element_count(image)};
    add({{"type", "Reshape"}, {"target_shape", image}});
  }
  for (int64_t i = 0, n = pick(1, 4); i < n; ++i) {
    switch (pick(0, 8)) {
      case 0:
      case 1:
        channels = pick(1, 6);
        add(window({{"type", "Conv2D"}, {"filters", channels}}));
        break;
      case 2:
        add({{"type", coin() ? "MaxPooling2D" : "AveragePooling2D"},
             {"pool_size", {pick(1, 3), pick(1, 3)}},
             {"strides", {pick(1, 3), pick(1, 3)}},
             {"padding", coin() ? "same" : "valid"}});
        break;
      case 3:
        add({{"type", "BatchNormalization"},
             {"center", coin()},
             {"scale", coin()},
             {"epsilon", coin() ? 1e-3 : 0.01}});
        if (coin()) add({{"type", "Activation"}, {"activation", activation()}});
        break;
      case 4:
        if (coin()) {
          const int64_t multiplier = pick(1, 2);
          channels *= multiplier;
          add(window({{"type", "DepthwiseConv2D"}, {"depth_multiplier", multiplier}}));
        } else {
          channels = pick(1, 6);
          add(window({{"type", "SeparableConv2D"},
                      {"filters", channels},
                      {"depth_multiplier", pick(1, 2)}}));
        }
        break;
      case 5:
        switch (pick(0, 2)) {
          case 0:
            add({{"type", "ZeroPadding2D"}, {"padding", sides(2)}});
            break;
          case 1:
            add({{"type", "Cropping2D"}, {"cropping", sides(1)}});
            break;
          default:
            add({{"type", "SpatialDropout2D"}, {"rate", 0.3}});
        }
        break;
      case 6:
        switch (pick(0, 2)) {
          case 0:
            add({{"type", "LayerNormalization"}, {"center", coin()}, {"scale", coin()}});
            break;
          case 1:
            add({{"type", "LeakyReLU"}, {"negative_slope", coin() ? 0.3 : 0.05}});
            break;
          default:
            add({{"type", "ReLU"},
                 {"max_value", coin() ? nlohmann::json(nullptr)
                                      : nlohmann::json(0.5 * static_cast<double>(pick(1, 8)))},
                 {"negative_slope", coin() ? 0.0 : 0.1},
                 {"threshold", coin() ? 0.0 : 0.25}});
        }
        break;
      default: {
        // (7, 8) A branch beside the current tensor, then a merge of the two.
        static const char* const kMerges[] = {"Add",     "Subtract", "Multiply",
                                              "Average", "Maximum",  "Concatenate"};
        const std::string merge = kMerges[pick(0, 5)];
        const std::string from = last();
        const int64_t filters = merge == "Concatenate" ? pick(1, 4) : channels;
        add({{"type", "Conv2D"},
             {"filters", filters},
             {"kernel_size", pick(1, 3)},
             {"padding", "same"},
             {"activation", activation()},
             {"inputs", {from}}});
        const std::string branch = last();
        nlohmann::json layer{{"type", merge}, {"inputs", {branch, from}}};
        if (merge == "Concatenate") {
          channels += filters;
          layer["axis"] = coin() ? -1 : 3;
        }
        add(layer);
      }
    }
  }
  if (coin()) {
    add({{"type", coin() ? "GlobalAveragePooling2D" : "GlobalMaxPooling2D"}, {"keepdims", coin()}});
    if (layers.back()["keepdims"] == true) add({{"type", "Flatten"}});
  } else {
    add({{"type", "Flatten"}});
  }
  if (coin()) {
    add({{"type", "Dense"}, {"units", pick(3, 20)}, {"activation", activation()}});
    if (coin()) add({{"type", coin() ? "BatchNormalization" : "LayerNormalization"}});
    if (coin()) add({{"type", "Dropout"}, {"rate", 0.25}});
  }
  const int64_t classes = pick(2, 10);
  add({{"type", "Dense"}, {"units", classes}, {"activation", coin() ? "softmax" : "linear"}});
  ModelSpec spec;
  spec.source = "random-" + std::to_string(seed);
  spec.input_shape = input;
  for (size_t i = 0; i < layers.size(); ++i)
    spec.layers.push_back({layers[i]["type"], layers[i], "/model/layers/" + std::to_string(i)});
  try {
    Model m = Model::build(spec, seed);
    // Moving statistics far from 0 and 1, so a wrong epsilon or a swapped mean and variance show.
    for (ParamRef& p : m.params()) {
      const bool var = p.name.find("moving_variance") != std::string::npos;
      const bool mean = p.name.find("moving_mean") != std::string::npos;
      for (int64_t k = 0; k < p.size() && (var || mean); ++k)
        p.value[k] = var ? static_cast<float>(0.05 + rng.uniform())
                         : static_cast<float>(rng.uniform() - 0.5);
    }
    return m;
  } catch (const ConfigError&) {
    return std::nullopt;
  }
}

void check_runtimes(const std::vector<ExportCase>& cases, const fs::path& dir, const char* title) {
  const OnnxRuntime runtimes[] = {onnx_runtime_ort(), onnx_runtime_opencv()};
  std::vector<std::vector<Agreement>> results;
  std::vector<std::string> versions;
  for (const OnnxRuntime& rt : runtimes) {
    if (!rt.missing.empty()) {
      WARN("skipped " << rt.name << ": " << rt.missing);
      results.emplace_back();
      versions.push_back("-");
      continue;
    }
    std::vector<OnnxJob> jobs;
    for (size_t i = 0; i < cases.size(); ++i) {
      const fs::path in = dir / ("case" + std::to_string(i) + ".in");
      write_floats(in, cases[i].onnx_input);
      jobs.push_back({cases[i].onnx, in, cases[i].onnx_shape,
                      dir / ("case" + std::to_string(i) + "." + rt.name)});
    }
    std::string version = run_onnx_jobs(rt, jobs, dir);
    version.erase(version.find_last_not_of('\n') + 1);
    versions.push_back(version);
    std::vector<Agreement> agreements;
    for (size_t i = 0; i < cases.size(); ++i)
      agreements.push_back(compare(cases[i], read_floats(jobs[i].output)));
    results.push_back(agreements);
  }
  std::printf("\n%s: %lld inputs each; max |p - p_mnistnet|, arg-max differences\n", title,
              static_cast<long long>(kInputs));
  std::printf("  %-28s %-26s %-26s\n", "model", versions[0].c_str(), versions[1].c_str());
  for (size_t i = 0; i < cases.size(); ++i) {
    std::printf("  %-28s", cases[i].name.c_str());
    for (const auto& r : results) {
      if (r.empty()) {
        std::printf(" %-26s", "skipped");
      } else {
        std::printf(" %-12.2e %-13lld", r[i].max_abs, static_cast<long long>(r[i].argmax_differ));
      }
    }
    std::printf("\n");
  }
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO(cases[i].name);
    if (!results[0].empty()) {
      CHECK(results[0][i].max_abs <= 1e-5);
      CHECK(results[0][i].argmax_differ == 0);
    }
    if (!results[1].empty()) {
      CHECK(results[1][i].max_abs <= 1e-4);
      CHECK(results[1][i].argmax_differ == 0);
    }
  }
}

}  // namespace

TEST_CASE("Every shipped config, exported, gives mnistnet's probabilities in two ONNX runtimes",
          "[onnx][export]") {
  TempDir dir;
  std::vector<ExportCase> cases;
  const fs::path configs = fs::path(MNISTNET_SOURCE_DIR) / "configs";
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(configs))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  uint64_t seed = 1;
  for (const fs::path& file : files) {
    Config config = load_config(file.string());
    Model model = Model::build(config.model, config.seed);
    train_a_few_steps(model, config.training.optimizer, ++seed);
    cases.push_back(export_case(config.name, model, dir.path, "nchw", seed));
    if (config.name == "conv_bn")
      cases.push_back(export_case(config.name, model, dir.path, "nhwc", seed));
  }
  REQUIRE(cases.size() >= 13);
  check_runtimes(cases, dir.path, "shipped configs");
}

TEST_CASE("Random models, exported, give mnistnet's probabilities in two ONNX runtimes",
          "[onnx][export]") {
  TempDir dir;
  std::vector<ExportCase> cases;
  std::set<std::string> types;  // the layer types the cases hold ("ReLU threshold": its step)
  for (uint64_t seed = 1; cases.size() < kRandomModels && seed < 2000; ++seed) {
    std::optional<Model> model = random_model(seed);
    if (!model) continue;
    for (const LayerSpec& layer : model->spec().layers) {
      types.insert(layer.type);
      if (layer.type == "ReLU" && layer.args["threshold"] != 0.0) types.insert("ReLU threshold");
    }
    const std::string layout = seed % 3 == 0 ? "nhwc" : "nchw";
    cases.push_back(export_case("random-" + std::to_string(seed), *model, dir.path, layout, seed));
  }
  REQUIRE(cases.size() == kRandomModels);
  for (std::string type : known_layer_types()) {
    INFO("no random model has a " << type);
    CHECK(types.count(type) == 1);
  }
  CHECK(types.count("ReLU threshold") == 1);
  check_runtimes(cases, dir.path, "random models");
}
