#include "config/config_loader.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/augmentation_config.h"
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

std::vector<std::string> string_list(JsonFields& f, const std::string& key) {
  std::vector<std::string> out;
  const nlohmann::json& list = f.array(key);
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_string() || list[i].get<std::string>().empty())
      f.fail(key + "/" + std::to_string(i),
             "expected a non-empty string, got " + describe_json(list[i]));
    out.push_back(list[i].get<std::string>());
  }
  return out;
}

DataSpec parse_data(JsonFields f) {
  DataSpec d;
  d.dataset = f.string("dataset", d.dataset);
  // Keras's module spellings of the known sets (fashion_mnist, MNIST) name the same folders.
  for (const char* known : {"mnist", "fashion-mnist"}) {
    std::string folded = d.dataset;
    for (char& c : folded)
      c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (folded == known) d.dataset = known;
  }
  if (d.dataset.empty() || d.dataset.find('/') != std::string::npos || d.dataset[0] == '.')
    f.fail("dataset",
           "expected a data set name (a folder name under data/), got \"" + d.dataset + "\"");
  d.format = f.has("format")
                 ? f.choice("format", std::nullopt, {"idx", "csv", "npz", "image_folder"})
                 : "";
  d.path = f.string("path", "");
  d.train = f.string("train", "");
  d.test = f.string("test", "");
  d.transpose = f.boolean("transpose", d.transpose);
  d.label_offset = static_cast<int>(f.integer("label_offset", d.label_offset, -255, 255));
  d.classes_file = f.string("classes_file", "");
  d.label_column = f.string("label_column", d.label_column);
  if (f.has("image_shape")) {
    d.image_shape = f.positive_int_list("image_shape");
    if (d.image_shape.size() != 3 || (d.image_shape[2] != 1 && d.image_shape[2] != 3))
      f.fail("image_shape", "expected [rows, cols, channels] with 1 or 3 channels");
  }
  d.x_train = f.string("x_train", d.x_train);
  d.y_train = f.string("y_train", d.y_train);
  d.x_test = f.string("x_test", d.x_test);
  d.y_test = f.string("y_test", d.y_test);
  if (f.has("image_size")) {
    d.image_size = f.int_or_list("image_size", std::nullopt, 2, 1);
    if (d.image_size[0] > 4096 || d.image_size[1] > 4096)
      f.fail("image_size", "expected [height, width] of at most 4096 each");
  }
  d.color_mode = f.choice("color_mode", d.color_mode, {"grayscale", "rgb"});
  if (f.has("class_names")) d.class_names = string_list(f, "class_names");
  d.validation_split = f.number("validation_split", d.validation_split, 0.0, 0.99);
  d.pixel_divisor = f.number("pixel_divisor", d.pixel_divisor, 1e-6);
  d.cache = f.boolean("cache", d.cache);
  d.shuffle_buffer = f.integer("shuffle_buffer", d.shuffle_buffer, 0);
  d.reshuffle_each_iteration = f.boolean("reshuffle_each_iteration", d.reshuffle_each_iteration);
  d.prefetch = static_cast<int>(f.integer("prefetch", d.prefetch, 0, 64));
  d.validation_batch_size = f.integer("validation_batch_size", d.validation_batch_size, 1, 100000);
  if (f.has("augmentation")) {
    const nlohmann::json& list = f.array("augmentation");
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string at = f.pointer_to("augmentation") + "/" + std::to_string(i);
      JsonFields layer(list[i], f.source(), at);
      const std::string type = layer.string("type", std::nullopt);
      if (!is_augmentation_layer(type))
        layer.fail("type", "\"" + type +
                               "\" is not an augmentation layer; expected RandomTranslation, "
                               "RandomRotation, RandomZoom, RandomFlip, RandomCrop, "
                               "RandomContrast or RandomBrightness");
      d.augmentation.push_back(parse_augmentation_layer(list[i], f.source(), at));
    }
  }
  f.finish();
  return d;
}

std::string key_elsewhere(const JsonFields& here, const std::string& key);

// The keys of the other sections live in tables: the unknown-key message of a section lists
// the table's keys, and a key put in the wrong section is found in the others ("epochs" at the
// top level is training.epochs). `data` reads its keys in code, all of them every time.

// What each optimizer type takes besides the arguments all of them have, for the message of a
// key given to a type that does not take it.
std::string own_arguments(const std::string& type) {
  if (type == "sgd") return "SGD takes momentum, nesterov";
  if (type == "rmsprop") return "RMSprop takes rho, momentum, epsilon, centered";
  return (type == "adamw" ? "AdamW" : "Adam") +
         std::string(" takes beta_1, beta_2, epsilon, amsgrad");
}

bool is_adam(const OptimizerSpec& o) { return o.type == "adam" || o.type == "adamw"; }

// `k` belongs to other optimizer types (`whose`, e.g. "an SGD"): an error when given.
void refuse(JsonFields& f, const char* k, const OptimizerSpec& o, const char* whose) {
  if (f.has(k)) f.fail(k, std::string("is ") + whose + " argument; " + own_arguments(o.type));
}

const FieldReader<OptimizerSpec> kOptimizerFields[] = {
    {"type",
     [](JsonFields& f, const char* k, OptimizerSpec& o) {
       o.type = f.choice(k, o.type, {"sgd", "adam", "adamw", "rmsprop"});
     }},
    {"learning_rate",
     [](JsonFields& f, const char* k, OptimizerSpec& o) {
       o.learning_rate = f.number(k, o.type == "sgd" ? 0.01 : 0.001, 0.0);
     }},
    {"momentum",
     [](JsonFields& f, const char* k, OptimizerSpec& o) {
       if (o.type == "sgd" || o.type == "rmsprop")
         o.momentum = f.number(k, o.momentum, 0.0, 1.0);
       else
         refuse(f, k, o, "an SGD/RMSprop");
     }},
    {"nesterov",
     [](JsonFields& f, const char* k, OptimizerSpec& o) {
       if (o.type == "sgd")
         o.nesterov = f.boolean(k, o.nesterov);
       else
         refuse(f, k, o, "an SGD");
     }},
    {"rho",
     [](JsonFields& f, const char* k, OptimizerSpec& o) {
       if (o.type == "rmsprop")
         o.rho = f.number(k, o.rho, 0.0, 1.0);
       else
         refuse(f, k, o, "an RMSprop");
     }},
    {"centered",
     [](JsonFields& f, const char* k, OptimizerSpec& o) {
       if (o.type == "rmsprop")
         o.centered = f.boolean(k, o.centered);
       else
         refuse(f, k, o, "an RMSprop");
     }},
    {"beta_1",
     [](JsonFields& f, const char* k, OptimizerSpec& o) {
       if (is_adam(o))
         o.beta_1 = f.number(k, o.beta_1, 0.0, 1.0);
       else
         refuse(f, k, o, "an Adam");
     }},
    {"beta_2",
     [](JsonFields& f, const char* k, OptimizerSpec& o) {
       if (is_adam(o))
         o.beta_2 = f.number(k, o.beta_2, 0.0, 1.0);
       else
         refuse(f, k, o, "an Adam");
     }},
    {"amsgrad",
     [](JsonFields& f, const char* k, OptimizerSpec& o) {
       if (is_adam(o))
         o.amsgrad = f.boolean(k, o.amsgrad);
       else
         refuse(f, k, o, "an Adam");
     }},
    {"epsilon",
     [](JsonFields& f, const char* k, OptimizerSpec& o) {
       if (o.type != "sgd")
         o.epsilon = f.number(k, o.epsilon, 0.0);
       else
         refuse(f, k, o, "an Adam/RMSprop");
     }},
    // Keras 3's BaseOptimizer arguments, the same for every type.
    {"weight_decay",
     [](JsonFields& f, const char* k, OptimizerSpec& o) {
       o.weight_decay = f.number(k, o.type == "adamw" ? 0.004 : 0.0, 0.0);
     }},
    {"clipnorm",
     [](JsonFields& f, const char* k, OptimizerSpec& o) {
       // At most one way of clipping, as Keras has it.
       const char* clip = nullptr;
       for (const char* key : {"clipnorm", "clipvalue", "global_clipnorm"}) {
         if (!f.has(key)) continue;
         if (clip)
           f.fail(key,
                  std::string("only one of clipnorm, clipvalue and global_clipnorm can be set, ") +
                      "and " + clip + " is set too");
         clip = key;
       }
       o.clipnorm = f.number(k, 0.0, 0.0);
     }},
    {"clipvalue",
     [](JsonFields& f, const char* k, OptimizerSpec& o) { o.clipvalue = f.number(k, 0.0, 0.0); }},
    {"global_clipnorm", [](JsonFields& f, const char* k,
                           OptimizerSpec& o) { o.global_clipnorm = f.number(k, 0.0, 0.0); }},
    {"use_ema",
     [](JsonFields& f, const char* k, OptimizerSpec& o) { o.use_ema = f.boolean(k, o.use_ema); }},
    {"ema_momentum",
     [](JsonFields& f, const char* k, OptimizerSpec& o) {
       o.ema_momentum = f.number(k, o.ema_momentum, 0.0, 1.0);
     }},
    {"ema_overwrite_frequency",
     [](JsonFields& f, const char* k, OptimizerSpec& o) {
       o.ema_overwrite_frequency = f.integer(k, 0, 1);
     }},
    // Keras's variable-name prefix; nothing to name here.
    {"name", [](JsonFields& f, const char* k, OptimizerSpec&) { f.string(k, ""); }},
};

const FieldReader<CheckpointSpec> kCheckpointFields[] = {
    {"save_freq",
     [](JsonFields& f, const char* k, CheckpointSpec& c) {
       const nlohmann::json* v = f.find(k);
       if (v && v->is_string())
         f.choice(k, "epoch", {"epoch"});
       else
         c.save_freq = f.integer(k, 0, 1);
     }},
    {"keep", [](JsonFields& f, const char* k,
                CheckpointSpec& c) { c.keep = static_cast<int>(f.integer(k, c.keep, 1, 1000)); }},
};

const std::initializer_list<const char*> kMonitors = {"loss", "accuracy", "val_loss",
                                                      "val_accuracy"};

const FieldReader<EarlyStoppingSpec> kEarlyStoppingFields[] = {
    {"monitor", [](JsonFields& f, const char* k,
                   EarlyStoppingSpec& e) { e.monitor = f.choice(k, e.monitor, kMonitors); }},
    {"min_delta", [](JsonFields& f, const char* k,
                     EarlyStoppingSpec& e) { e.min_delta = f.number(k, e.min_delta); }},
    {"patience",
     [](JsonFields& f, const char* k, EarlyStoppingSpec& e) {
       e.patience = static_cast<int>(f.integer(k, e.patience, 0, 1000000));
     }},
    {"mode",
     [](JsonFields& f, const char* k, EarlyStoppingSpec& e) {
       e.mode = f.choice(k, e.mode, {"auto", "min", "max"});
     }},
    {"baseline",
     [](JsonFields& f, const char* k, EarlyStoppingSpec& e) {
       e.has_baseline = f.has(k);
       e.baseline = f.number(k, 0.0);
     }},
    {"restore_best_weights",
     [](JsonFields& f, const char* k, EarlyStoppingSpec& e) {
       e.restore_best_weights = f.boolean(k, e.restore_best_weights);
     }},
    {"start_from_epoch",
     [](JsonFields& f, const char* k, EarlyStoppingSpec& e) {
       e.start_from_epoch = static_cast<int>(f.integer(k, e.start_from_epoch, 0, 1000000));
     }},
    // Keras's console switch; mnistnet always reports an early stop.
    {"verbose", [](JsonFields&, const char*, EarlyStoppingSpec&) {}},
};

const FieldReader<BestModelSpec> kBestModelFields[] = {
    {"monitor", [](JsonFields& f, const char* k,
                   BestModelSpec& b) { b.monitor = f.choice(k, b.monitor, kMonitors); }},
    {"mode",
     [](JsonFields& f, const char* k, BestModelSpec& b) {
       b.mode = f.choice(k, b.mode, {"auto", "min", "max"});
     }},
    {"file",
     [](JsonFields& f, const char* k, BestModelSpec& b) {
       b.file = f.string(k, b.file);
       if (b.file.empty() || b.file.find('/') != std::string::npos)
         f.fail(k, "expected a plain file name inside the run directory, got \"" + b.file + "\"");
     }},
};

// Keras's compile(optimizer="adam"): a string is the optimizer's type with its defaults.
OptimizerSpec read_optimizer(JsonFields& f, const char* k) {
  OptimizerSpec o;
  const nlohmann::json* v = f.find(k);
  if (v && v->is_string()) {
    const nlohmann::json object = {{"type", *v}};
    JsonFields sub(object, f.source(), f.pointer_to(k));
    read_fields(sub, o, kOptimizerFields);
    f.skip(k);
    return o;
  }
  JsonFields sub = f.object(k);
  read_fields(sub, o, kOptimizerFields);
  return o;
}

// Keras's ReduceLROnPlateau: after `patience` epochs without an improvement of the monitored
// value by more than min_delta, the rate becomes max(rate * factor, min_lr).
const FieldReader<ReduceLROnPlateauSpec> kReduceLrFields[] = {
    {"monitor", [](JsonFields& f, const char* k,
                   ReduceLROnPlateauSpec& r) { r.monitor = f.choice(k, r.monitor, kMonitors); }},
    {"factor",
     [](JsonFields& f, const char* k, ReduceLROnPlateauSpec& r) {
       r.factor = f.number(k, r.factor, 0.0);
       if (r.factor >= 1.0)
         f.fail(k, "ReduceLROnPlateau does not support a factor >= 1, got " +
                       nlohmann::json(r.factor).dump());
     }},
    {"patience",
     [](JsonFields& f, const char* k, ReduceLROnPlateauSpec& r) {
       r.patience = static_cast<int>(f.integer(k, r.patience, 0, 1000000));
     }},
    {"mode",
     [](JsonFields& f, const char* k, ReduceLROnPlateauSpec& r) {
       r.mode = f.choice(k, r.mode, {"auto", "min", "max"});
     }},
    {"min_delta", [](JsonFields& f, const char* k,
                     ReduceLROnPlateauSpec& r) { r.min_delta = f.number(k, r.min_delta); }},
    {"cooldown",
     [](JsonFields& f, const char* k, ReduceLROnPlateauSpec& r) {
       r.cooldown = static_cast<int>(f.integer(k, r.cooldown, 0, 1000000));
     }},
    {"min_lr", [](JsonFields& f, const char* k,
                  ReduceLROnPlateauSpec& r) { r.min_lr = f.number(k, r.min_lr, 0.0); }},
    // Keras's console switch; the lr column of metrics.csv shows the rate.
    {"verbose", [](JsonFields&, const char*, ReduceLROnPlateauSpec&) {}},
};

template <class Spec, size_t N>
Spec read_section(JsonFields& f, const char* k, const FieldReader<Spec> (&table)[N]) {
  Spec spec;
  JsonFields sub = f.object(k);
  read_fields(sub, spec, table);
  return spec;
}

const FieldReader<TrainingSpec> kTrainingFields[] = {
    {"epochs",
     [](JsonFields& f, const char* k, TrainingSpec& t) {
       t.epochs = static_cast<int>(f.integer(k, t.epochs, 1, 100000));
     }},
    {"batch_size",
     [](JsonFields& f, const char* k, TrainingSpec& t) {
       t.batch_size = static_cast<int>(f.integer(k, t.batch_size, 1, 65536));
     }},
    {"steps_per_epoch",
     [](JsonFields& f, const char* k, TrainingSpec& t) {
       t.steps_per_epoch = f.integer(k, t.steps_per_epoch, 0);
     }},
    {"loss",  // "sparse_categorical_crossentropy", or {"type": ..., "label_smoothing": x}
     [](JsonFields& f, const char* k, TrainingSpec& t) {
       const nlohmann::json* v = f.find(k);
       if (!v || !v->is_object()) {
         t.loss.type = f.choice(k, t.loss.type, {"sparse_categorical_crossentropy"});
         return;
       }
       JsonFields sub = f.object(k);
       t.loss.type = sub.choice("type", t.loss.type, {"sparse_categorical_crossentropy"});
       t.loss.label_smoothing = sub.number("label_smoothing", t.loss.label_smoothing, 0.0, 1.0);
       sub.finish();
     }},
    {"optimizer",
     [](JsonFields& f, const char* k, TrainingSpec& t) { t.optimizer = read_optimizer(f, k); }},
    {"lr_schedule",  // after "optimizer": the per-step schedules start from its learning rate
     [](JsonFields& f, const char* k, TrainingSpec& t) {
       static const nlohmann::json none = nlohmann::json::object();
       const nlohmann::json* optimizer = f.find("optimizer");
       t.lr_schedule =
           parse_schedule(f.object(k), t.optimizer.learning_rate, optimizer ? *optimizer : none);
     }},
    {"threads",
     [](JsonFields& f, const char* k, TrainingSpec& t) {
       t.threads = static_cast<int>(f.integer(k, t.threads, 0, 256));
     }},
    {"checkpoint",
     [](JsonFields& f, const char* k, TrainingSpec& t) {
       if (f.has(k)) t.checkpoint = read_section(f, k, kCheckpointFields);
     }},
    {"early_stopping",
     [](JsonFields& f, const char* k, TrainingSpec& t) {
       if (!f.has(k)) return;
       t.early_stopping = read_section(f, k, kEarlyStoppingFields);
       t.early_stopping.enabled = true;
     }},
    {"best_model",
     [](JsonFields& f, const char* k, TrainingSpec& t) {
       if (!f.has(k)) return;
       t.best_model = read_section(f, k, kBestModelFields);
       t.best_model.enabled = true;
     }},
    {"reduce_lr_on_plateau",  // after "lr_schedule"
     [](JsonFields& f, const char* k, TrainingSpec& t) {
       if (!f.has(k)) return;
       if (t.lr_schedule.type != "constant")
         f.fail(k, "needs a constant learning rate, but lr_schedule is \"" + t.lr_schedule.type +
                       "\" (Keras cannot set the rate of a schedule either)");
       t.reduce_lr_on_plateau = read_section(f, k, kReduceLrFields);
       t.reduce_lr_on_plateau.enabled = true;
     }},
};

const FieldReader<OutputSpec> kOutputFields[] = {
    {"run_dir", [](JsonFields& f, const char* k, OutputSpec& o) { o.run_dir = f.string(k, ""); }},
    {"model_file",
     [](JsonFields& f, const char* k, OutputSpec& o) {
       o.model_file = f.string(k, o.model_file);
       if (o.model_file.empty() || o.model_file.find('/') != std::string::npos)
         f.fail(k, "expected a plain file name inside the run directory, got \"" + o.model_file +
                       "\"");
     }},
    {"progress",
     [](JsonFields& f, const char* k, OutputSpec& o) {
       o.progress = f.choice(k, o.progress, {"auto", "bar", "epoch", "none"});
     }},
};

const FieldReader<Config> kRootFields[] = {
    {"name",
     [](JsonFields& f, const char* k, Config& c) {
       c.name = f.string(k, std::filesystem::path(c.source).stem().string());
     }},
    {"seed", [](JsonFields& f, const char* k,
                Config& c) { c.seed = static_cast<uint64_t>(f.integer(k, 42, 0)); }},
    {"description", [](JsonFields&, const char*, Config&) {}},
    {"data", [](JsonFields& f, const char* k, Config& c) { c.data = parse_data(f.object(k)); }},
    {"model",
     [](JsonFields& f, const char* k, Config& c) {
       const nlohmann::json* model = f.find(k);
       if (!model) f.fail(k, "missing; expected an object with \"layers\"");
       c.model = parse_model_spec(*model, f.source(), f.pointer_to(k));
     }},
    {"training",
     [](JsonFields& f, const char* k, Config& c) {
       JsonFields sub = f.object(k);
       read_fields(sub, c.training, kTrainingFields,
                   [&](const std::string& key) { return key_elsewhere(sub, key); });
     }},
    {"output",
     [](JsonFields& f, const char* k, Config& c) { c.output = read_section(f, k, kOutputFields); }},
};

// The sections' tables under their dotted paths, to find where a misplaced key belongs.
template <class Spec, size_t N>
void add_keys(std::vector<std::string>& paths, const std::string& prefix,
              const FieldReader<Spec> (&table)[N]) {
  for (const FieldReader<Spec>& row : table) paths.push_back(prefix + row.key);
}

std::vector<std::string> known_key_paths() {
  std::vector<std::string> paths;
  add_keys(paths, "", kRootFields);
  add_keys(paths, "training.", kTrainingFields);
  add_keys(paths, "training.optimizer.", kOptimizerFields);
  add_keys(paths, "training.checkpoint.", kCheckpointFields);
  add_keys(paths, "training.early_stopping.", kEarlyStoppingFields);
  add_keys(paths, "training.best_model.", kBestModelFields);
  add_keys(paths, "training.reduce_lr_on_plateau.", kReduceLrFields);
  add_keys(paths, "output.", kOutputFields);
  return paths;  // `data` has no table yet: its keys are not searched
}

std::string key_elsewhere(const JsonFields& here, const std::string& key) {
  std::string found;
  for (const std::string& path : known_key_paths()) {
    const size_t dot = path.rfind('.');
    if ((dot == std::string::npos ? path : path.substr(dot + 1)) != key) continue;
    if (!found.empty()) return "";  // in several sections: no one answer
    found = path;
  }
  if (found.empty()) return "";
  std::string pointer = "/" + found;
  for (char& c : pointer) c = c == '.' ? '/' : c;
  const nlohmann::json* v = here.find(key);
  std::string value = v->is_string()
                          ? v->get<std::string>()
                          : v->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (value.size() > 20) value = "...";
  return "; it belongs at " + pointer + " (--set " + found + "=" + value + ")";
}

}  // namespace

DataSpec parse_data_spec(const nlohmann::json& data, const std::string& source,
                         const std::string& pointer) {
  return parse_data(JsonFields(data, source, pointer));
}

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
    // Keras's Random* layers: the input pipeline runs them, so they must come before the model.
    if (const nlohmann::json* type = layer.find("type");
        type && type->is_string() && is_augmentation_layer(type->get<std::string>())) {
      if (!m.layers.empty())
        layer.fail("type", type->get<std::string>() +
                               " must come before every other layer (augmentation runs in the "
                               "input pipeline, ahead of the model), but " +
                               m.layers.front().pointer + " (" + m.layers.front().type +
                               ") is before it");
      m.augmentation.push_back(parse_augmentation_layer(layers[i], source, at));
      continue;
    }
    // Keras 2 put the input's shape on the first layer; Keras 3 and mnistnet on the model.
    if (const nlohmann::json* shape = layer.find("input_shape"))
      layer.fail("input_shape",
                 "the input's shape goes on the model, not a layer: " +
                     f.pointer_to("input_shape") + " (\"model\": {\"input_shape\": " +
                     shape->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                     ", \"layers\": [...]}, or --set model.input_shape=...)");
    LayerSpec spec;
    spec.type = layer.string("type", std::nullopt);
    spec.args = layers[i];
    spec.pointer = at;
    m.layers.push_back(std::move(spec));
  }
  if (m.layers.empty())
    f.fail("layers", "expected at least one layer after the augmentation layers");
  f.finish();
  return m;
}

Config parse_config(const nlohmann::json& document, const std::string& source) {
  JsonFields root(document, source, "");
  Config c;
  c.source = source;
  read_fields(root, c, kRootFields,
              [&](const std::string& key) { return key_elsewhere(root, key); });
  // One augmentation mechanism: the model's Random* layers join the data's list, not both.
  if (!c.model.augmentation.empty()) {
    if (!c.data.augmentation.empty())
      throw ConfigError(source + ": /data/augmentation: augmentation is given here and as " +
                        c.model.augmentation.front().type + " at " +
                        c.model.augmentation.front().pointer + "; give it in one place");
    c.data.augmentation = std::move(c.model.augmentation);
    c.model.augmentation.clear();
  }
  for (const AugmentLayer& a : c.data.augmentation) {
    const Shape& in = c.model.input_shape;
    if (a.kind == AugmentKind::crop && (in.size() != 3 || in[0] != a.height || in[1] != a.width))
      throw ConfigError(
          source + ": " + a.pointer + ": RandomCrop to " + std::to_string(a.height) + "x" +
          std::to_string(a.width) + " must keep the model's input_shape " + shape_string(in) +
          " (the pipeline's augmentation keeps the image size, and Keras resizes rather than "
          "crops at inference); use RandomTranslation for shifted crops");
  }
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
  // optimizer="adam" as Keras's compile() takes it: the object form, so --set can reach into it.
  if (document.is_object() && document.contains("training") && document["training"].is_object() &&
      document["training"].contains("optimizer") && document["training"]["optimizer"].is_string())
    document["training"]["optimizer"] = {{"type", document["training"]["optimizer"]}};
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
