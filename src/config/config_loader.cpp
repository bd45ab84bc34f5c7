#include "config/config_loader.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/json_fields.h"
#include "config/schedule_config.h"
#include "core/errors.h"

namespace mnistnet {
namespace {

// "line 3, column 14" for a byte offset into text (nlohmann reports offsets).
std::string line_and_column(const std::string& text, size_t byte) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

DataSpec parse_data(JsonFields f) {
  DataSpec d;
  d.dataset = f.choice("dataset", d.dataset, {"mnist", "fashion-mnist"});
  d.path = f.string("path", "");
  d.pixel_divisor = f.number("pixel_divisor", d.pixel_divisor, 1e-6);
  d.cache = f.boolean("cache", d.cache);
  d.shuffle_buffer = f.integer("shuffle_buffer", d.shuffle_buffer, 0);
  d.reshuffle_each_iteration = f.boolean("reshuffle_each_iteration", d.reshuffle_each_iteration);
  d.prefetch = static_cast<int>(f.integer("prefetch", d.prefetch, 0, 64));
  d.validation_batch_size = f.integer("validation_batch_size", d.validation_batch_size, 1, 100000);
  f.finish();
  return d;
}

OptimizerSpec parse_optimizer(JsonFields f) {
  OptimizerSpec o;
  o.type = f.choice("type", o.type, {"sgd", "adam", "adamw", "rmsprop"});
  o.learning_rate = f.number("learning_rate", o.type == "sgd" ? 0.01 : 0.001, 0.0);
  if (o.type == "sgd") {
    o.momentum = f.number("momentum", o.momentum, 0.0, 1.0);
    o.nesterov = f.boolean("nesterov", o.nesterov);
  } else if (o.type == "rmsprop") {
    o.rho = f.number("rho", o.rho, 0.0, 1.0);
    o.momentum = f.number("momentum", o.momentum, 0.0, 1.0);
    o.epsilon = f.number("epsilon", o.epsilon, 0.0);
    o.centered = f.boolean("centered", o.centered);
  } else {
    o.beta_1 = f.number("beta_1", o.beta_1, 0.0, 1.0);
    o.beta_2 = f.number("beta_2", o.beta_2, 0.0, 1.0);
    o.epsilon = f.number("epsilon", o.epsilon, 0.0);
    o.amsgrad = f.boolean("amsgrad", o.amsgrad);
  }
  // Keras 3's BaseOptimizer arguments, the same for every type.
  o.weight_decay = f.number("weight_decay", o.type == "adamw" ? 0.004 : 0.0, 0.0);
  const char* clip = nullptr;
  for (const char* key : {"clipnorm", "clipvalue", "global_clipnorm"}) {
    if (!f.has(key)) continue;
    if (clip)
      f.fail(key, std::string("only one of clipnorm, clipvalue and global_clipnorm can be set, ") +
                      "and " + clip + " is set too");
    clip = key;
  }
  o.clipnorm = f.number("clipnorm", 0.0, 0.0);
  o.clipvalue = f.number("clipvalue", 0.0, 0.0);
  o.global_clipnorm = f.number("global_clipnorm", 0.0, 0.0);
  o.use_ema = f.boolean("use_ema", o.use_ema);
  o.ema_momentum = f.number("ema_momentum", o.ema_momentum, 0.0, 1.0);
  o.ema_overwrite_frequency = f.integer("ema_overwrite_frequency", 0, 1);
  f.string("name", "");  // Keras's variable-name prefix; nothing to name here
  f.finish();
  return o;
}

// "sparse_categorical_crossentropy", or {"type": ..., "label_smoothing": x}.
LossSpec parse_loss(JsonFields& training, const nlohmann::json& raw) {
  LossSpec l;
  if (!raw.contains("loss") || !raw["loss"].is_object()) {
    l.type = training.choice("loss", l.type, {"sparse_categorical_crossentropy"});
    return l;
  }
  JsonFields f = training.object("loss");
  l.type = f.choice("type", l.type, {"sparse_categorical_crossentropy"});
  l.label_smoothing = f.number("label_smoothing", l.label_smoothing, 0.0, 1.0);
  f.finish();
  return l;
}

CheckpointSpec parse_checkpoint(JsonFields f, const nlohmann::json& object) {
  CheckpointSpec c;
  if (object.contains("save_freq") && object["save_freq"].is_string()) {
    f.choice("save_freq", "epoch", {"epoch"});
  } else {
    c.save_freq = f.integer("save_freq", 0, 1);
  }
  c.keep = static_cast<int>(f.integer("keep", c.keep, 1, 1000));
  f.finish();
  return c;
}

const std::initializer_list<const char*> kMonitors = {"loss", "accuracy", "val_loss",
                                                      "val_accuracy"};

EarlyStoppingSpec parse_early_stopping(JsonFields f) {
  EarlyStoppingSpec e;
  e.enabled = true;
  e.monitor = f.choice("monitor", e.monitor, kMonitors);
  e.min_delta = f.number("min_delta", e.min_delta);
  e.patience = static_cast<int>(f.integer("patience", e.patience, 0, 1000000));
  e.mode = f.choice("mode", e.mode, {"auto", "min", "max"});
  e.has_baseline = f.has("baseline");
  e.baseline = f.number("baseline", 0.0);
  e.restore_best_weights = f.boolean("restore_best_weights", e.restore_best_weights);
  e.start_from_epoch =
      static_cast<int>(f.integer("start_from_epoch", e.start_from_epoch, 0, 1000000));
  f.skip("verbose");  // Keras's console switch; mnistnet always reports an early stop
  f.finish();
  return e;
}

// Keras's ReduceLROnPlateau: after `patience` epochs without an improvement of the monitored
// value by more than min_delta, the rate becomes max(rate * factor, min_lr).
ReduceLROnPlateauSpec parse_reduce_lr_on_plateau(JsonFields f) {
  ReduceLROnPlateauSpec r;
  r.enabled = true;
  r.monitor = f.choice("monitor", r.monitor, kMonitors);
  r.factor = f.number("factor", r.factor, 0.0);
  if (r.factor >= 1.0)
    f.fail("factor", "ReduceLROnPlateau does not support a factor >= 1, got " +
                         nlohmann::json(r.factor).dump());
  r.patience = static_cast<int>(f.integer("patience", r.patience, 0, 1000000));
  r.mode = f.choice("mode", r.mode, {"auto", "min", "max"});
  r.min_delta = f.number("min_delta", r.min_delta);
  r.cooldown = static_cast<int>(f.integer("cooldown", r.cooldown, 0, 1000000));
  r.min_lr = f.number("min_lr", r.min_lr, 0.0);
  f.skip("verbose");  // Keras's console switch; the lr column of metrics.csv shows the rate
  f.finish();
  return r;
}

BestModelSpec parse_best_model(JsonFields f) {
  BestModelSpec b;
  b.enabled = true;
  b.monitor = f.choice("monitor", b.monitor, kMonitors);
  b.mode = f.choice("mode", b.mode, {"auto", "min", "max"});
  b.file = f.string("file", b.file);
  if (b.file.empty() || b.file.find('/') != std::string::npos)
    f.fail("file", "expected a plain file name inside the run directory, got \"" + b.file + "\"");
  f.finish();
  return b;
}

// raw: the same object as f, for the keys whose type decides how to read them.
TrainingSpec parse_training(JsonFields f, const nlohmann::json& raw) {
  TrainingSpec t;
  t.epochs = static_cast<int>(f.integer("epochs", t.epochs, 1, 100000));
  t.batch_size = static_cast<int>(f.integer("batch_size", t.batch_size, 1, 65536));
  t.steps_per_epoch = f.integer("steps_per_epoch", t.steps_per_epoch, 0);
  t.loss = parse_loss(f, raw);
  t.optimizer = parse_optimizer(f.object("optimizer"));
  static const nlohmann::json none = nlohmann::json::object();
  t.lr_schedule = parse_schedule(f.object("lr_schedule"), t.optimizer.learning_rate,
                                 raw.contains("optimizer") ? raw["optimizer"] : none);
  t.threads = static_cast<int>(f.integer("threads", t.threads, 0, 256));
  if (f.has("checkpoint"))
    t.checkpoint = parse_checkpoint(f.object("checkpoint"), raw["checkpoint"]);
  if (f.has("early_stopping")) t.early_stopping = parse_early_stopping(f.object("early_stopping"));
  if (f.has("best_model")) t.best_model = parse_best_model(f.object("best_model"));
  if (f.has("reduce_lr_on_plateau")) {
    t.reduce_lr_on_plateau = parse_reduce_lr_on_plateau(f.object("reduce_lr_on_plateau"));
    if (t.lr_schedule.type != "constant")
      f.fail("reduce_lr_on_plateau", "needs a constant learning rate, but lr_schedule is \"" +
                                         t.lr_schedule.type +
                                         "\" (Keras cannot set the rate of a schedule either)");
  }
  f.finish();
  return t;
}

OutputSpec parse_output(JsonFields f) {
  OutputSpec o;
  o.run_dir = f.string("run_dir", "");
  o.model_file = f.string("model_file", o.model_file);
  if (o.model_file.empty() || o.model_file.find('/') != std::string::npos)
    f.fail("model_file",
           "expected a plain file name inside the run directory, got \"" + o.model_file + "\"");
  o.progress = f.choice("progress", o.progress, {"auto", "bar", "epoch", "none"});
  f.finish();
  return o;
}

}  // namespace

ModelSpec parse_model_spec(const nlohmann::json& model, const std::string& source,
                           const std::string& pointer) {
  JsonFields f(model, source, pointer);
  ModelSpec m;
  m.source = source;
  m.input_shape = f.has("input_shape") ? f.positive_int_list("input_shape") : Shape{28, 28, 1};
  const nlohmann::json& layers = f.array("layers");
  if (layers.empty()) f.fail("layers", "expected at least one layer");
  for (size_t i = 0; i < layers.size(); ++i) {
    std::string at = f.pointer_to("layers") + "/" + std::to_string(i);
    JsonFields layer(layers[i], source, at);
    LayerSpec spec;
    spec.type = layer.string("type", std::nullopt);
    spec.args = layers[i];
    spec.pointer = at;
    m.layers.push_back(std::move(spec));
  }
  f.finish();
  return m;
}

Config parse_config(const nlohmann::json& document, const std::string& source) {
  JsonFields root(document, source, "");
  Config c;
  c.source = source;
  c.name = root.string("name", std::filesystem::path(source).stem().string());
  c.seed = static_cast<uint64_t>(root.integer("seed", 42, 0));
  root.skip("description");
  c.data = parse_data(root.object("data"));
  if (!root.has("model")) root.fail("model", "missing; expected an object with \"layers\"");
  root.skip("model");
  c.model = parse_model_spec(document["model"], source, "/model");
  static const nlohmann::json no_training = nlohmann::json::object();
  c.training = parse_training(
      root.object("training"),
      document.is_object() && document.contains("training") ? document["training"] : no_training);
  c.output = parse_output(root.object("output"));
  root.finish();
  c.resolved = document;
  return c;
}

void apply_override(nlohmann::json& document, const std::string& assignment,
                    const std::string& source) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError("--set " + assignment + ": expected key.path=value");
  }
  // The resolved config is saved as JSON, whose strings must be UTF-8.
  try {
    (void)nlohmann::json(assignment).dump();
  } catch (const nlohmann::json::type_error&) {
    throw ConfigError(
        "--set " +
        nlohmann::json(assignment).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
        ": not valid UTF-8 text");
  }
  const std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  if (json_too_deep_at(text) != std::string::npos) {
    throw ConfigError("--set " + path + ": the value is JSON nested more than " +
                      std::to_string(kMaxJsonDepth) + " levels deep");
  }
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;  // a bare word is a string: --set data.dataset=mnist

  nlohmann::json* node = &document;
  std::string pointer;
  std::stringstream parts(path);
  std::string part;
  std::vector<std::string> keys;
  while (std::getline(parts, part, '.')) keys.push_back(part);
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string& key = keys[i];
    if (key.empty()) throw ConfigError("--set " + assignment + ": empty key in path " + path);
    pointer += "/" + key;
    if (node->is_array()) {
      size_t index = 0;
      try {
        index = std::stoul(key);
      } catch (const std::exception&) {
        throw ConfigError(source + ": " + pointer + ": --set " + path + ": expected a list index");
      }
      if (index >= node->size()) {
        throw ConfigError(source + ": " + pointer + ": --set " + path +
                          ": index out of range (the list has " + std::to_string(node->size()) +
                          " entries)");
      }
      node = &(*node)[index];
    } else {
      if (node->is_null()) *node = nlohmann::json::object();
      if (!node->is_object()) {
        throw ConfigError(source + ": " + pointer + ": --set " + path + ": " +
                          pointer.substr(0, pointer.rfind('/')) + " is not an object");
      }
      node = &(*node)[key];
    }
  }
  *node = std::move(value);
}

Config parse_config_text(const std::string& text, const std::string& source,
                         const std::vector<std::string>& overrides) {
  if (const size_t deep = json_too_deep_at(text); deep != std::string::npos) {
    throw ConfigError(source + ": " + line_and_column(text, deep) + ": JSON nested more than " +
                      std::to_string(kMaxJsonDepth) + " levels deep");
  }
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    const size_t pos = what.find("parse error");
    throw ConfigError(source + ": " + line_and_column(text, e.byte > 0 ? e.byte - 1 : 0) +
                      ": invalid JSON: " + (pos == std::string::npos ? what : what.substr(pos)));
  } catch (const nlohmann::json::exception& e) {
    // A number too large for a double ("1e400"): nlohmann reports it without a position, but
    // quotes the number, so find it in the text.
    std::string what = e.what();
    const size_t quote = what.find('\'');
    const size_t at = quote == std::string::npos
                          ? std::string::npos
                          : text.find(what.substr(quote + 1, what.rfind('\'') - quote - 1));
    const size_t pos = what.find("] ");
    throw ConfigError(source + ": " +
                      (at == std::string::npos ? "" : line_and_column(text, at) + ": ") +
                      "invalid JSON: " + (pos == std::string::npos ? what : what.substr(pos + 2)));
  }
  for (const auto& o : overrides) apply_override(document, o, source);
  return parse_config(document, source);
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open the config file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_config_text(buffer.str(), path, overrides);
}

}  // namespace mnistnet
