// The optimizer, lr_schedule, loss, reduce_lr_on_plateau and regularizer keys: Keras's names
// and defaults, and one-line errors naming the file, the JSON pointer and what was expected.
#include <catch2/catch.hpp>

#include "config/config_loader.h"
#include "core/errors.h"
#include "model/model.h"

using namespace mnistnet;
using Catch::Contains;

namespace {

const char* kBase = R"({
  "model": {"input_shape": [784], "layers": [
    {"type": "Dense", "units": 20, "activation": "relu"},
    {"type": "Dense", "units": 10, "activation": "softmax"}]},
  "training": {"epochs": 1, "optimizer": {"type": "adam"}}
})";

Config load(const std::vector<std::string>& overrides) {
  Config c = parse_config_text(kBase, "x.json", overrides);
  Model::build(c.model, c.seed);  // the registry reads the layer arguments
  return c;
}

std::string error_of(const std::vector<std::string>& overrides) {
  try {
    load(overrides);
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    CHECK(what.find('\n') == std::string::npos);  // one line
    return what;
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("Optimizer defaults are Keras 3's", "[config][optim]") {
  Config c = load({});
  CHECK(c.training.optimizer.weight_decay == 0.0);
  CHECK(c.training.optimizer.ema_momentum == 0.99);
  c = load({"training.optimizer={\"type\": \"adamw\"}"});
  CHECK(c.training.optimizer.weight_decay == 0.004);
  CHECK(c.training.optimizer.learning_rate == 0.001);
  c = load({"training.optimizer={\"type\": \"rmsprop\"}"});
  CHECK(c.training.optimizer.rho == 0.9);
  CHECK(c.training.optimizer.momentum == 0.0);
  CHECK(c.training.optimizer.epsilon == 1e-7);
  CHECK_FALSE(c.training.optimizer.centered);
  c =
      load({"training.optimizer={\"type\": \"sgd\", \"weight_decay\": 0.01, \"clipvalue\": 1, "
            "\"use_ema\": true, \"ema_overwrite_frequency\": 5}"});
  CHECK(c.training.optimizer.learning_rate == 0.01);
  CHECK(c.training.optimizer.weight_decay == 0.01);
  CHECK(c.training.optimizer.clipvalue == 1.0);
  CHECK(c.training.optimizer.use_ema);
  CHECK(c.training.optimizer.ema_overwrite_frequency == 5);
  c = load({"training.loss={\"label_smoothing\": 0.1}"});
  CHECK(c.training.loss.label_smoothing == 0.1);
  CHECK(load({}).training.loss.type == "sparse_categorical_crossentropy");
}

TEST_CASE("Optimizer errors name the key and what was expected", "[config][optim][errors]") {
  CHECK_THAT(error_of({"training.optimizer.type=nadam"}),
             Contains("x.json: /training/optimizer/type: expected one of \"sgd\", \"adam\", "
                      "\"adamw\", \"rmsprop\""));
  CHECK_THAT(error_of({"training.optimizer.clipnorm=1", "training.optimizer.clipvalue=1"}),
             Contains("/training/optimizer/clipvalue: only one of clipnorm, clipvalue and "
                      "global_clipnorm can be set, and clipnorm is set too"));
  CHECK_THAT(
      error_of({"training.optimizer.ema_momentum=1.5"}),
      Contains("/training/optimizer/ema_momentum: expected a number in [0.0, 1.0], got 1.5"));
  CHECK_THAT(error_of({"training.optimizer.ema_overwrite_frequency=0"}),
             Contains("/training/optimizer/ema_overwrite_frequency"));
  CHECK_THAT(error_of({"training.optimizer.weight_decay=-0.1"}),
             Contains("/training/optimizer/weight_decay: expected a number >= 0"));
  CHECK_THAT(error_of({"training.optimizer.rho=0.9"}),
             Contains("/training/optimizer/rho: is an RMSprop argument; Adam takes beta_1"));
  CHECK_THAT(error_of({"training.optimizer={\"type\": \"rmsprop\", \"beta_1\": 0.9}"}),
             Contains("/training/optimizer/beta_1: is an Adam argument; RMSprop takes rho"));
}

TEST_CASE("Per-step schedules take Keras's arguments", "[config][schedule]") {
  Config c =
      load({"training.lr_schedule={\"type\": \"CosineDecay\", \"decay_steps\": 100, "
            "\"warmup_target\": 0.01, \"warmup_steps\": 5}"});
  CHECK(c.training.lr_schedule.initial_learning_rate == 0.001);  // the optimizer's default
  CHECK(c.training.lr_schedule.has_warmup_target);
  c =
      load({"training.lr_schedule={\"type\": \"ExponentialDecay\", \"initial_learning_rate\": "
            "0.1, \"decay_steps\": 10, \"decay_rate\": 0.9, \"staircase\": true}"});
  CHECK(c.training.lr_schedule.initial_learning_rate == 0.1);
  CHECK(c.training.lr_schedule.staircase);
  c =
      load({"training.lr_schedule={\"type\": \"PiecewiseConstantDecay\", \"boundaries\": [10, "
            "20], \"values\": [0.1, 0.01, 0.001]}"});
  CHECK(c.training.lr_schedule.values.size() == 3);
  c = load({"training.lr_schedule={\"type\": \"CosineDecayRestarts\", \"first_decay_steps\": 10}"});
  CHECK(c.training.lr_schedule.t_mul == 2.0);
  CHECK(c.training.lr_schedule.m_mul == 1.0);
}

TEST_CASE("Schedule errors name the key and what was expected", "[config][schedule][errors]") {
  CHECK_THAT(error_of({"training.lr_schedule={\"type\": \"CosineDecay\"}"}),
             Contains("/training/lr_schedule/decay_steps: missing"));
  CHECK_THAT(error_of({"training.lr_schedule={\"type\": \"ExponentialDecay\", \"decay_steps\": "
                       "0, \"decay_rate\": 0.5}"}),
             Contains("/training/lr_schedule/decay_steps: expected an integer >= 1") ||
                 Contains("/training/lr_schedule/decay_steps"));
  CHECK_THAT(error_of({"training.lr_schedule={\"type\": \"PiecewiseConstantDecay\", "
                       "\"boundaries\": [20, 10], \"values\": [1, 2, 3]}"}),
             Contains("/training/lr_schedule/boundaries: expected a non-empty list of step "
                      "numbers >= 0 in strictly increasing order, got the list [20,10]"));
  CHECK_THAT(error_of({"training.lr_schedule={\"type\": \"PiecewiseConstantDecay\", "
                       "\"boundaries\": [10], \"values\": [1]}"}),
             Contains("/training/lr_schedule/values: expected 2 learning rates >= 0 (one more "
                      "than boundaries), got the list [1]"));
  CHECK_THAT(error_of({"training.optimizer.learning_rate=0.1",
                       "training.lr_schedule={\"type\": \"PiecewiseConstantDecay\", "
                       "\"boundaries\": [10], \"values\": [1, 2]}"}),
             Contains("x.json: /training/optimizer/learning_rate: PiecewiseConstantDecay's "
                      "values set the learning rate; remove this key"));
  CHECK_THAT(error_of({"training.optimizer.learning_rate=0.1",
                       "training.lr_schedule={\"type\": \"CosineDecay\", \"decay_steps\": 10, "
                       "\"initial_learning_rate\": 0.2}"}),
             Contains("/training/lr_schedule/initial_learning_rate: the rate is also set by "
                      "/training/optimizer/learning_rate; give only one of them"));
  CHECK_THAT(error_of({"training.lr_schedule={\"type\": \"CosineDecayRestarts\", "
                       "\"first_decay_steps\": 10, \"t_mul\": 0.5}"}),
             Contains("/training/lr_schedule/t_mul: expected a number >= 1"));
  CHECK_THAT(error_of({"training.lr_schedule={\"type\": \"exponential\", \"decay_rate\": 0.5, "
                       "\"decay_steps\": 10}"}),
             Contains("/training/lr_schedule/decay_steps: unknown key"));
  CHECK_THAT(error_of({"training.lr_schedule.type=cosine"}),
             Contains("/training/lr_schedule/type: expected one of \"constant\", \"exponential\", "
                      "\"ExponentialDecay\""));
}

TEST_CASE("reduce_lr_on_plateau and loss errors", "[config][plateau][errors]") {
  Config c = load({"training.reduce_lr_on_plateau={}"});
  CHECK(c.training.reduce_lr_on_plateau.enabled);
  CHECK(c.training.reduce_lr_on_plateau.factor == 0.1);
  CHECK(c.training.reduce_lr_on_plateau.patience == 10);
  CHECK(c.training.reduce_lr_on_plateau.min_delta == 1e-4);
  CHECK_THAT(error_of({"training.reduce_lr_on_plateau={\"factor\": 1.0}"}),
             Contains("/training/reduce_lr_on_plateau/factor: ReduceLROnPlateau does not "
                      "support a factor >= 1, got 1.0"));
  CHECK_THAT(error_of({"training.reduce_lr_on_plateau={\"monitor\": \"val_acc\"}"}),
             Contains("/training/reduce_lr_on_plateau/monitor: expected one of"));
  CHECK_THAT(error_of({"training.reduce_lr_on_plateau={}",
                       "training.lr_schedule={\"type\": \"exponential\", \"decay_rate\": 0.5}"}),
             Contains("/training/reduce_lr_on_plateau: needs a constant learning rate, but "
                      "lr_schedule is \"exponential\""));
  CHECK_THAT(error_of({"training.loss={\"label_smoothing\": 1.5}"}),
             Contains("/training/loss/label_smoothing: expected a number in [0.0, 1.0], got 1.5"));
  CHECK_THAT(error_of({"training.loss={\"type\": \"mse\"}"}),
             Contains("/training/loss/type: expected one of \"sparse_categorical_crossentropy\""));
  CHECK_THAT(error_of({"training.loss=mse"}),
             Contains("/training/loss: expected one of \"sparse_categorical_crossentropy\""));
}

TEST_CASE("Regularizer arguments of Dense and Conv2D", "[config][regularizer][errors]") {
  CHECK(error_of({"model.layers.0.kernel_regularizer={\"l1\": 0.01, \"l2\": 0.02}",
                  "model.layers.0.bias_regularizer={\"l2\": 0.1}"}) == "(no error)");
  CHECK_THAT(error_of({"model.layers.0.kernel_regularizer={\"l3\": 0.01}"}),
             Contains("x.json: /model/layers/0/kernel_regularizer/l2: missing; expected "
                      "{\"l2\": x}, {\"l1\": x} or {\"l1\": a, \"l2\": b}"));
  CHECK_THAT(error_of({"model.layers.0.kernel_regularizer={\"l2\": 0.01, \"l3\": 1}"}),
             Contains("/model/layers/0/kernel_regularizer/l3: unknown key"));
  CHECK_THAT(error_of({"model.layers.0.bias_regularizer={\"l1\": -1}"}),
             Contains("/model/layers/0/bias_regularizer/l1: expected a number >= 0.0, got -1"));
  CHECK_THAT(error_of({"model.layers.0.kernel_regularizer=0.01"}),
             Contains("/model/layers/0/kernel_regularizer"));
}
