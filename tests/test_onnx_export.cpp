// The ONNX export's structure, metadata and errors (the runtimes' verdict is test_onnx.cpp).
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "cli_runner.h"
#include "config/config_loader.h"
#include "core/errors.h"
#include "export/onnx_export.h"
#include "layers/activation.h"
#include "layers/registry.h"
#include "model/model_file.h"
#include "synthetic_idx.h"

using namespace mnistnet;
using namespace mnistnet::testing;
namespace fs = std::filesystem;

namespace {

const fs::path kConfigs = fs::path(MNISTNET_SOURCE_DIR) / "configs";

fs::path save_config_model(const std::string& name, const fs::path& dir, ModelMeta meta = {}) {
  Config c = load_config((kConfigs / (name + ".json")).string());
  Model m = Model::build(c.model, c.seed);
  meta.name = name;
  const fs::path path = dir / (name + ".mnn");
  save_model(path, m, meta);
  return path;
}

onnx::ModelProto read_onnx(const fs::path& path) {
  onnx::ModelProto m;
  REQUIRE(m.ParseFromString(slurp(path)));
  return m;
}

std::vector<std::string> dims(const onnx::ValueInfoProto& v) {
  std::vector<std::string> out;
  for (const auto& d : v.type().tensor_type().shape().dim())
    out.push_back(d.has_dim_param() ? d.dim_param() : std::to_string(d.dim_value()));
  return out;
}

std::string prop(const onnx::ModelProto& m, const std::string& key) {
  for (const auto& p : m.metadata_props())
    if (p.key() == key) return p.value();
  return "<missing>";
}

int64_t count_ops(const onnx::ModelProto& m, const std::string& op) {
  return std::count_if(m.graph().node().begin(), m.graph().node().end(),
                       [&](const onnx::NodeProto& n) { return n.op_type() == op; });
}

std::vector<int64_t> ints_attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return {a.ints().begin(), a.ints().end()};
  return {};
}

}  // namespace

TEST_CASE("Every layer type and activation mnistnet builds has an ONNX export", "[onnx][export]") {
  for (const std::string& type : known_layer_types()) {
    INFO(type);
    CHECK(onnx_export::export_table().count(type) == 1);
  }
  const std::vector<std::string> exportable = onnx_export::exportable_activations();
  for (const char* name : {MNISTNET_ACTIVATION_NAMES}) {
    INFO(name);
    CHECK(std::find(exportable.begin(), exportable.end(), name) != exportable.end());
  }
}

TEST_CASE("conv_bn exports as NCHW convolutions with TF's same pads and no Dropout or Transpose",
          "[onnx][export]") {
  TempDir dir;
  const fs::path mnn = save_config_model("conv_bn", dir.path);
  const CliResult r = run_cli("export --model '" + mnn.string() + "'", dir.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const fs::path out = dir.path / "conv_bn.onnx";  // beside the model by default
  CHECK(r.out.find(out.string()) != std::string::npos);
  const onnx::ModelProto m = read_onnx(out);
  REQUIRE(m.graph().input_size() == 1);
  CHECK(dims(m.graph().input(0)) == std::vector<std::string>{"N", "1", "28", "28"});
  REQUIRE(m.graph().output_size() == 1);
  CHECK(m.graph().output(0).name() == "probabilities");
  CHECK(dims(m.graph().output(0)) == std::vector<std::string>{"N", "10"});
  CHECK(count_ops(m, "Conv") == 3);
  CHECK(count_ops(m, "BatchNormalization") == 4);
  CHECK(count_ops(m, "Gemm") == 2);
  CHECK(count_ops(m, "Dropout") == 0);
  // Flatten hands Dense a channels-first vector whose kernel rows were permuted: no Transpose,
  // and the input's reshape to 28x28x1 and back costs nothing.
  CHECK(count_ops(m, "Transpose") == 0);
  CHECK(count_ops(m, "Softmax") == 1);
  CHECK(m.graph().node(m.graph().node_size() - 1).op_type() == "Softmax");
  // 28 pixels, kernel 6, stride 1, "same": 5 padding rows, 2 before and 3 after (TF's rule).
  const onnx::NodeProto& conv = m.graph().node(0);
  REQUIRE(conv.op_type() == "Conv");
  CHECK(ints_attr(conv, "pads") == std::vector<int64_t>{2, 2, 3, 3});
  for (const auto& n : m.graph().node()) {
    if (n.op_type() != "BatchNormalization") continue;
    REQUIRE(n.attribute_size() == 1);
    CHECK(n.attribute(0).name() == "epsilon");
    CHECK(n.attribute(0).f() == Approx(1e-3));
  }
  CHECK(m.opset_import(0).version() == 17);
  CHECK(m.producer_name() == "mnistnet");
  CHECK(prop(m, "mnistnet.version") == MNISTNET_VERSION);
  CHECK(prop(m, "mnistnet.class_names") == R"(["0","1","2","3","4","5","6","7","8","9"])");
  CHECK(prop(m, "mnistnet.pixel_divisor") == "256");
  CHECK(prop(m, "mnistnet.input_layout") == "NCHW");
  CHECK(prop(m, "mnistnet.input").find("[N, 1, 28, 28]") != std::string::npos);
  const auto config = nlohmann::json::parse(prop(m, "mnistnet.config"));
  CHECK(config["name"] == "conv_bn");
  CHECK(config["model"]["layers"].size() == 16);
}

TEST_CASE("Export with layout nhwc keeps the NHWC input and passes class names and the opset",
          "[onnx][export]") {
  TempDir dir;
  ModelMeta meta;
  meta.dataset = "fashion-mnist";
  meta.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  const fs::path mnn = save_config_model("dense2", dir.path, meta);
  const fs::path out = dir.path / "x.onnx";
  const CliResult r = run_cli("export -q --model '" + mnn.string() + "' --out '" + out.string() +
                                  "' --layout nhwc --opset 13",
                              dir.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.empty());
  const onnx::ModelProto m = read_onnx(out);
  CHECK(dims(m.graph().input(0)) == std::vector<std::string>{"N", "28", "28", "1"});
  CHECK(m.opset_import(0).version() == 13);
  CHECK(prop(m, "mnistnet.input_layout") == "NHWC");
  CHECK(nlohmann::json::parse(prop(m, "mnistnet.class_names")) == meta.class_names);
  CHECK(prop(m, "mnistnet.dataset") == "fashion-mnist");
  // The same model exported again is the same bytes.
  const fs::path again = dir.path / "y.onnx";
  REQUIRE(run_cli("export -q --model '" + mnn.string() + "' --out '" + again.string() +
                      "' --layout nhwc --opset 13",
                  dir.path)
              .exit_code == 0);
  CHECK(slurp(out) == slurp(again));
}

TEST_CASE("A layer without an ONNX row is an error naming the layer", "[onnx][export]") {
  TempDir dir;
  const fs::path mnn = save_config_model("dense1", dir.path);
  LoadedModel loaded = load_model(mnn);
  onnx_export::ExportTable table = onnx_export::export_table();
  table.erase("Dense");
  try {
    export_onnx(loaded, "m.mnn", {}, table);
    FAIL("no error");
  } catch (const UserError& e) {
    CHECK(std::string(e.what()).rfind(
              "m.mnn: /model/layers/0 (dense, Dense): no ONNX export for layer type Dense "
              "(exportable: Activation, ",
              0) == 0);
  }
}

TEST_CASE("export's user errors are one line naming the flag or file", "[onnx][export][cli]") {
  TempDir dir;
  const fs::path mnn = save_config_model("dense1", dir.path);
  CliResult r = run_cli("export --model '" + mnn.string() + "' --layout nwhc", dir.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "mnistnet: error: --layout: expected nchw or nhwc, got \"nwhc\"\n");
  r = run_cli("export --model '" + mnn.string() + "' --opset 9", dir.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err == "mnistnet: error: --opset: expected 13 to 17, got 9\n");
  r = run_cli("export --model '" + (dir.path / "missing.mnn").string() + "'", dir.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("missing.mnn") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  r = run_cli("export --model '" + mnn.string() + "' --out '" +
                  (dir.path / "no/such/dir/m.onnx").string() + "'",
              dir.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("no/such/dir/m.onnx") != std::string::npos);
  CHECK(!fs::exists(dir.path / "dense1.onnx"));
}

TEST_CASE("A model of every layer type exports at the lowest and highest opset", "[onnx][export]") {
  TempDir dir;
  const nlohmann::json layers = nlohmann::json::parse(R"([
    {"type": "Reshape", "target_shape": [12, 12, 2], "name": "image"},
    {"type": "ZeroPadding2D", "padding": [[1, 0], [2, 1]]},
    {"type": "Cropping2D", "cropping": 1},
    {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "gelu"},
    {"type": "DepthwiseConv2D", "kernel_size": 3, "depth_multiplier": 2, "padding": "same"},
    {"type": "SeparableConv2D", "filters": 8, "kernel_size": 3, "strides": 2, "name": "sep"},
    {"type": "LayerNormalization"},
    {"type": "ReLU", "max_value": 4, "threshold": 0.5, "negative_slope": 0.1},
    {"type": "LeakyReLU"},
    {"type": "SpatialDropout2D", "rate": 0.2, "name": "trunk"},
    {"type": "Conv2D", "filters": 8, "kernel_size": 1, "inputs": ["trunk"], "name": "a"},
    {"type": "Conv2D", "filters": 8, "kernel_size": 1, "inputs": ["trunk"], "name": "b"},
    {"type": "Add", "inputs": ["a", "b"], "name": "add"},
    {"type": "Subtract", "inputs": ["a", "b"], "name": "sub"},
    {"type": "Multiply", "inputs": ["add", "sub"], "name": "mul"},
    {"type": "Average", "inputs": ["mul", "a", "b"], "name": "avg"},
    {"type": "Maximum", "inputs": ["avg", "a"], "name": "max"},
    {"type": "Concatenate", "inputs": ["max", "trunk"]},
    {"type": "GlobalMaxPooling2D"},
    {"type": "BatchNormalization"},
    {"type": "Dense", "units": 10, "activation": "softmax"}
  ])");
  ModelSpec spec;
  spec.source = "every-layer";
  spec.input_shape = {288};
  std::set<std::string> types;
  for (size_t i = 0; i < layers.size(); ++i) {
    spec.layers.push_back({layers[i]["type"], layers[i], "/model/layers/" + std::to_string(i)});
    types.insert(layers[i]["type"].get<std::string>());
  }
  // The list above is every layer type but the ones the older tests export.
  for (const std::string& type : known_layer_types())
    if (type != "Activation" && type != "AveragePooling2D" && type != "Dense" &&
        type != "Dropout" && type != "Flatten" && type != "GlobalAveragePooling2D" &&
        type != "MaxPooling2D")
      CHECK(types.count(type) == 1);
  Model m = Model::build(spec, 1);
  const fs::path mnn = dir.path / "every.mnn";
  save_model(mnn, m, {});
  for (const char* opset : {"13", "17"}) {
    INFO(opset);
    const CliResult r = run_cli("export -q --model '" + mnn.string() + "' --out '" +
                                    (dir.path / "every.onnx").string() + "' --opset " + opset,
                                dir.path);
    INFO(r.err);
    CHECK(r.exit_code == 0);
  }
  const onnx::ModelProto exported = read_onnx(dir.path / "every.onnx");
  CHECK(count_ops(exported, "Pad") == 1);
  CHECK(count_ops(exported, "Slice") == 1);
  CHECK(count_ops(exported, "Concat") == 1);
  CHECK(count_ops(exported, "GlobalMaxPool") == 1);
}
