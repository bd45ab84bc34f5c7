#pragma once
// Plain structs a config file turns into. Defaults follow Keras and the codelab.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/shape.h"

namespace mnistnet {

// One entry of /model/layers: the Keras class name and its arguments, still as JSON; the layer
// registry validates the arguments, so adding a layer does not touch the config parser.
struct LayerSpec {
  std::string type;
  nlohmann::json args;  // the whole object, including "type" (and "name" if given)
  std::string pointer;  // "/model/layers/3", for error messages
};

struct ModelSpec {
  std::string source;  // where the spec came from (config or model file), for error messages
  Shape input_shape;   // per example, e.g. {784} or {28, 28, 1}
  std::vector<LayerSpec> layers;
};

// /data: where the examples come from (a reader chosen by `format`, src/data/data_source.h)
// and how they are streamed.
struct DataSpec {
  std::string dataset = "mnist";  // the name of its folder under data/ ("mnist", "kmnist" ...)
  std::string format;             // "idx", "csv", "npz", "image_folder"; empty: what path holds
  std::string path;               // a directory (a file for NPZ); empty = find data/<dataset>/
  // The two splits inside `path`; empty = the format's default. IDX: the prefixes before
  // -images-idx3-ubyte[.gz] ("train", "t10k"); CSV: files ("train.csv", "test.csv");
  // image_folder: directories ("train", "test"). NPZ: unused (see the keys below).
  std::string train, test;
  // IDX: EMNIST's conventions.
  bool transpose = false;    // images are stored column-major (EMNIST): transpose each
  int label_offset = 0;      // subtracted from every label (EMNIST letters: 1)
  std::string classes_file;  // a "<label> <code point>" file (EMNIST's *-mapping.txt)
  // CSV (Kaggle's layout).
  std::string label_column = "label";
  Shape image_shape;  // [rows, cols, channels]; empty: a square of one channel
  // NPZ (Keras's mnist.npz).
  std::string x_train = "x_train", y_train = "y_train", x_test = "x_test", y_test = "y_test";
  // image_folder (Keras's image_dataset_from_directory).
  std::vector<int64_t> image_size;       // [height, width]; empty: the images' own size
  std::string color_mode = "grayscale";  // "grayscale" or "rgb"
  std::vector<std::string> class_names;  // names in label order; empty: from the data
  // A seeded fraction of the training set held out for validation (0: validate on the test set).
  double validation_split = 0.0;
  double pixel_divisor = 256.0;  // the codelab divides bytes by 256
  bool cache = true;
  int64_t shuffle_buffer = 5000;  // 0 disables shuffling
  bool reshuffle_each_iteration = true;
  int prefetch = 2;  // batches prepared ahead on a background thread; 0 = none
  int64_t validation_batch_size = 10000;
};

struct OptimizerSpec {
  std::string type = "adam";  // "sgd" or "adam"
  double learning_rate = 0.001;
  double momentum = 0.0;                                // sgd
  bool nesterov = false;                                // sgd
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7;  // adam (Keras defaults)
};

// lr(epoch) = learning_rate * decay_rate^epoch + minimum (the codelab's lr_decay), or constant.
struct ScheduleSpec {
  std::string type = "constant";  // "constant" or "exponential"
  double decay_rate = 1.0;
  double minimum = 0.0;
};

// training.checkpoint: a checkpoint (weights, optimizer, generators, data position ...) in
// <run>/checkpoints/ after every epoch, and every save_freq steps when that is a number
// (Keras BackupAndRestore's save_freq: "epoch" or an integer); the newest `keep` are kept.
struct CheckpointSpec {
  int64_t save_freq = 0;  // steps; 0 = "epoch" (epoch ends only)
  int keep = 2;
};

// training.early_stopping: Keras's EarlyStopping callback.
struct EarlyStoppingSpec {
  bool enabled = false;              // the key is present
  std::string monitor = "val_loss";  // loss, accuracy, val_loss, val_accuracy
  double min_delta = 0.0;
  int patience = 0;
  std::string mode = "auto";  // "auto", "min", "max"
  bool has_baseline = false;
  double baseline = 0.0;
  bool restore_best_weights = false;
  int start_from_epoch = 0;
};

// training.best_model: Keras's ModelCheckpoint(save_best_only=True): the model of the best
// epoch so far in <run>/<file>.
struct BestModelSpec {
  bool enabled = false;  // the key is present
  std::string monitor = "val_loss";
  std::string mode = "auto";
  std::string file = "best_model.mnn";
};

struct TrainingSpec {
  int epochs = 10;
  int batch_size = 128;
  int64_t steps_per_epoch = 0;  // 0 = training examples // batch_size
  CheckpointSpec checkpoint;
  EarlyStoppingSpec early_stopping;
  BestModelSpec best_model;
  std::string loss = "sparse_categorical_crossentropy";
  OptimizerSpec optimizer;
  ScheduleSpec lr_schedule;
  int threads = 0;  // threads of the maths (GEMM, kernels); 0 = all cores
};

struct OutputSpec {
  std::string run_dir;  // empty = runs/<config name>
  std::string model_file = "model.mnn";
  std::string progress = "auto";  // "auto" (bar on a terminal), "bar", "epoch", "none"
};

struct Config {
  std::string source;  // the config file's path
  std::string name;    // the config file's stem: "dense2"
  uint64_t seed = 42;
  DataSpec data;
  ModelSpec model;
  TrainingSpec training;
  OutputSpec output;
  nlohmann::json resolved;  // the JSON after --set overrides, as saved in the run
};

}  // namespace mnistnet
