// Config errors name the file and the JSON pointer, and say what was expected.
#include <catch2/catch.hpp>

#include "config/config_loader.h"
#include "core/errors.h"
#include "model/model.h"
#include "synthetic_idx.h"
#include "text_file.h"

using namespace mnistnet;
using Catch::Contains;
using mnistnet::testing::TempDir;
using mnistnet::testing::write_text;

namespace {

const char* kDense2 = R"({
  "seed": 1,
  "data": {"dataset": "mnist"},
  "model": {"input_shape": [784], "layers": [
    {"type": "Dense", "units": 200, "activation": "relu"},
    {"type": "Dense", "units": 60, "activation": "relu"},
    {"type": "Dense", "units": 10, "activation": "softmax"}]},
  "training": {"epochs": 2, "batch_size": 128, "optimizer": {"type": "adam", "learning_rate": 0.001}},
  "output": {}
})";

// Loads `text` as a config (after overrides) and builds its model, as `train` does.
void load_and_build(const std::string& text, std::vector<std::string> overrides = {}) {
  TempDir dir;
  const std::string path = write_text(dir.path, "x.json", text);
  Config c = load_config(path, overrides);
  Model::build(c.model, c.seed);
}

std::string error_of(const std::string& text, std::vector<std::string> overrides = {}) {
  try {
    load_and_build(text, std::move(overrides));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("A valid config loads with defaults filled in", "[config]") {
  TempDir dir;
  Config c = load_config(write_text(dir.path, "dense2.json", kDense2));
  CHECK(c.name == "dense2");
  CHECK(c.seed == 1);
  CHECK(c.training.batch_size == 128);
  CHECK(c.training.optimizer.type == "adam");
  CHECK(c.training.optimizer.epsilon == 1e-7);
  CHECK(c.data.shuffle_buffer == 5000);
  CHECK(c.data.pixel_divisor == 256.0);
  CHECK(c.model.layers.size() == 3);
  CHECK(c.model.layers[1].pointer == "/model/layers/1");
}

TEST_CASE("Wrong values name the file, the JSON pointer and the expectation", "[config][errors]") {
  std::string text = kDense2;
  text.replace(text.find("\"units\": 60"), 11, "\"units\": -3");
  const std::string e = error_of(text);
  CHECK_THAT(e, Contains("x.json: /model/layers/1/units: expected a positive integer") &&
                    Contains("got -3"));
}

TEST_CASE("Unknown keys are errors, not silently ignored", "[config][errors]") {
  std::string text = kDense2;
  text.replace(text.find("\"epochs\""), 8, "\"epoch\"");
  CHECK_THAT(error_of(text), Contains("/training/epoch: unknown key"));
  std::string layer = kDense2;
  layer.replace(layer.find("\"units\": 60"), 11, "\"unit\": 60");
  CHECK_THAT(error_of(layer), Contains("/model/layers/1/units: missing"));
}

TEST_CASE("Wrong types and choices are reported", "[config][errors]") {
  CHECK_THAT(error_of(kDense2, {"training.batch_size=\"big\""}),
             Contains("/training/batch_size: expected a positive integer, got the string \"big\""));
  CHECK_THAT(error_of(kDense2, {"training.optimizer.type=nadam"}),
             Contains("/training/optimizer/type: expected one of \"sgd\", \"adam\""));
  CHECK_THAT(error_of(kDense2, {"model.layers.0.activation=relux"}),
             Contains("/model/layers/0/activation: expected one of"));
  CHECK_THAT(error_of(kDense2, {"data.dataset=../cifar"}), Contains("/data/dataset"));
  CHECK_THAT(error_of(kDense2, {"training.optimizer.learning_rate=-1"}),
             Contains("/training/optimizer/learning_rate: expected a number >= 0"));
}

TEST_CASE("Unknown layer types list the known ones", "[config][errors]") {
  CHECK_THAT(
      error_of(kDense2, {"model.layers.1.type=Dense3"}),
      Contains("/model/layers/1/type: unknown layer type \"Dense3\"") && Contains("Flatten"));
}

TEST_CASE("Layers whose shapes do not fit are errors naming the layer", "[config][errors]") {
  CHECK_THAT(error_of(kDense2, {"model.input_shape=[28,28]"}),
             Contains("/model/layers/0: Dense \"dense\": Dense needs a flat input, got [28, 28]"));
  CHECK_THAT(error_of(kDense2, {"model.layers.2.activation=relu"}),
             Contains("/model/layers/2: the last layer must end with a softmax"));
}

TEST_CASE("Malformed JSON gives the line and column", "[config][errors]") {
  CHECK_THAT(error_of("{\n  \"seed\": 1,\n  \"model\": [\n}"),
             Contains("x.json: line 4, column 1: invalid JSON"));
  TempDir dir;
  REQUIRE_THROWS_WITH(load_config((dir.path / "missing.json").string()),
                      Contains("missing.json: cannot open"));
}

TEST_CASE("Overrides with --set reach any key by path, with the same validation", "[config][set]") {
  TempDir dir;
  const std::string path = write_text(dir.path, "c.json", kDense2);
  Config c = load_config(
      path, {"seed=7", "training.optimizer.learning_rate=0.01", "model.layers.0.units=300",
             "data.dataset=fashion-mnist", "training.lr_schedule.type=exponential",
             "training.lr_schedule.decay_rate=0.6"});
  CHECK(c.seed == 7);
  CHECK(c.training.optimizer.learning_rate == 0.01);
  CHECK(c.model.layers[0].args["units"] == 300);
  CHECK(c.data.dataset == "fashion-mnist");
  CHECK(c.training.lr_schedule.decay_rate == 0.6);
  CHECK(c.resolved["seed"] == 7);
  REQUIRE_THROWS_WITH(load_config(path, {"seed"}), Contains("expected key.path=value"));
  REQUIRE_THROWS_WITH(load_config(path, {"model.layers.9.units=3"}),
                      Contains("/model/layers/9") && Contains("out of range"));
  REQUIRE_THROWS_WITH(load_config(path, {"training.epochs=0"}),
                      Contains("/training/epochs: expected a positive integer, got 0"));
}
