// What a Keras user writes in a config, answered: every "known keys here" list comes from the
// table that parses the keys, near misses get did-you-mean, Keras's spellings are accepted,
// and a key in the wrong place gets the path that works.
#include <catch2/catch.hpp>

#include "config/config_loader.h"
#include "core/errors.h"

using namespace mnistnet;
using Catch::Contains;

namespace {

const char* kDense = R"({
  "seed": 1,
  "data": {"dataset": "mnist"},
  "model": {"input_shape": [784], "layers": [
    {"type": "Dense", "units": 10, "activation": "softmax"}]},
  "training": {"epochs": 2, "batch_size": 128, "optimizer": {"type": "adam", "learning_rate": 0.001}}
})";

std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    (void)parse_config_text(text, "x.json", overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

Config load(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return parse_config_text(text, "x.json", overrides);
}

}  // namespace

TEST_CASE("Known-key lists name every key the section parses", "[config][errors][guesses]") {
  const std::string training = error_of(kDense, {"training.zzz=1"});
  CHECK_THAT(training, Contains("x.json: /training/zzz: unknown key (known keys here: "));
  for (const char* key : {"epochs", "batch_size", "steps_per_epoch", "loss", "optimizer",
                          "lr_schedule", "threads", "checkpoint", "early_stopping", "best_model"})
    CHECK_THAT(training, Contains(key));
  // SGD's arguments are known under Adam too: they get their own message, not "unknown".
  const std::string optimizer = error_of(kDense, {"training.optimizer.momentum=0.9"});
  CHECK_THAT(optimizer,
             Contains("/training/optimizer/momentum: is an SGD/RMSprop argument; Adam takes "
                      "beta_1, beta_2, epsilon"));
  CHECK_THAT(error_of(kDense, {"training.optimizer.zzz=1"}),
             Contains("known keys here: amsgrad, beta_1, beta_2, centered, clipnorm, clipvalue, "
                      "ema_momentum, ema_overwrite_frequency, epsilon, global_clipnorm, "
                      "learning_rate, momentum, name, nesterov, rho, type, use_ema, weight_decay"));
  CHECK_THAT(error_of(kDense, {"zzz=1"}),
             Contains("/zzz: unknown key (known keys here: data, description, model, name, "
                      "output, seed, training)"));
}

TEST_CASE("Near misses get did-you-mean", "[config][errors][guesses]") {
  CHECK_THAT(
      error_of(kDense, {"data.shufle_buffer=100"}),
      Contains("x.json: /data/shufle_buffer: unknown key; did you mean \"shuffle_buffer\"?"));
  CHECK_THAT(error_of(kDense, {"training.epoch=3"}),
             Contains("/training/epoch: unknown key; did you mean \"epochs\"?"));
  CHECK_THAT(error_of(kDense, {"training.early_stopping.patiense=3"}),
             Contains("did you mean \"patience\"?"));
  CHECK_THAT(error_of(kDense, {"training.optimizer.type=adamm"}),
             Contains("/training/optimizer/type: expected one of \"sgd\", \"adam\", \"adamw\", "
                      "\"rmsprop\", got the string \"adamm\"; did you mean \"adam\"?"));
}

TEST_CASE("Keras's spellings: optimizer as a string, class names, module names",
          "[config][guesses]") {
  std::string text = kDense;
  text.replace(text.find(R"({"type": "adam", "learning_rate": 0.001})"), 40, R"("adam")");
  Config c = load(text);
  CHECK(c.training.optimizer.type == "adam");
  CHECK(c.training.optimizer.learning_rate == 0.001);  // Keras's default
  // --set reaches into it: the string became {"type": "adam"} before the overrides.
  c = load(text, {"training.optimizer.learning_rate=0.01"});
  CHECK(c.training.optimizer.learning_rate == 0.01);
  CHECK(c.resolved["training"]["optimizer"] ==
        nlohmann::json{{"type", "adam"}, {"learning_rate", 0.01}});

  CHECK(load(kDense, {"training.optimizer.type=Adam"}).training.optimizer.type == "adam");
  CHECK(load(kDense, {"training.optimizer.type=SGD"}).training.optimizer.type == "sgd");
  CHECK(load(kDense, {"training.optimizer=\"SGD\""}).training.optimizer.type == "sgd");
  CHECK(load(kDense, {"data.dataset=fashion_mnist"}).data.dataset == "fashion-mnist");
  CHECK(load(kDense, {"data.dataset=MNIST"}).data.dataset == "mnist");
}

TEST_CASE("A key in the wrong place gets the path that works", "[config][errors][guesses]") {
  CHECK_THAT(error_of(kDense, {"epochs=1"}),
             Contains("x.json: /epochs: unknown key; it belongs at /training/epochs "
                      "(--set training.epochs=1)"));
  CHECK_THAT(error_of(kDense, {"batch_size=64"}),
             Contains("it belongs at /training/batch_size (--set training.batch_size=64)"));
  CHECK_THAT(error_of(kDense, {"training.restore_best_weights=true"}),
             Contains("/training/restore_best_weights: unknown key; it belongs at "
                      "/training/early_stopping/restore_best_weights "
                      "(--set training.early_stopping.restore_best_weights=true)"));
  CHECK_THAT(error_of(kDense, {"learning_rate=0.1"}),
             Contains("(--set training.optimizer.learning_rate=0.1)"));

  // Keras 2's input_shape on the first layer: the model's key, with the value given.
  std::string keras2 = kDense;
  keras2.replace(keras2.find(R"("input_shape": [784], )"), 22, "");
  keras2.replace(keras2.find(R"("units": 10,)"), 12, R"("units": 10, "input_shape": [784],)");
  CHECK_THAT(error_of(keras2),
             Contains("x.json: /model/layers/0/input_shape: the input's shape goes on the model, "
                      "not a layer: /model/input_shape (\"model\": {\"input_shape\": [784], "
                      "\"layers\": [...]}, or --set model.input_shape=...)"));
}
