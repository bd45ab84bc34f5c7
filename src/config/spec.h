#pragma once
// Plain structs a config file turns into. Defaults follow Keras and the codelab.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/shape.h"
#include "data/augment_spec.h"

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
  // Keras's Random* preprocessing layers found at the front of /model/layers: they are not
  // layers of the model (parse_config moves them to DataSpec::augmentation).
  std::vector<AugmentLayer> augmentation = {};
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
  // Applied to the training images in the input pipeline, in order (src/data/augmenter.h): from
  // /data/augmentation, or the Random* layers opening /model/layers (one or the other).
  std::vector<AugmentLayer> augmentation = {};
};

// Keras 3's optimizers, with their names and defaults. 0 stands for Keras's None in the
// optional arguments (weight_decay, the clips, ema_overwrite_frequency).
struct OptimizerSpec {
  std::string type = "adam";  // "sgd", "adam", "adamw" or "rmsprop"
  double learning_rate = 0.001;
  double momentum = 0.0;                                // sgd, rmsprop
  bool nesterov = false;                                // sgd
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7;  // adam, adamw (epsilon: rmsprop too)
  bool amsgrad = false;                                 // adam, adamw
  double rho = 0.9;                                     // rmsprop
  bool centered = false;                                // rmsprop
  // BaseOptimizer's arguments, every type: decoupled decay w -= w * weight_decay * lr before
  // each update (adamw: 0.004), gradient clipping (at most one), a moving average of the weights.
  double weight_decay = 0.0;
  double clipnorm = 0.0, clipvalue = 0.0, global_clipnorm = 0.0;
  bool use_ema = false;
  double ema_momentum = 0.99;
  int64_t ema_overwrite_frequency = 0;
};

// training.lr_schedule. "exponential" is the codelab's per-epoch decay:
// lr(epoch) = learning_rate * decay_rate^epoch + minimum. The others are Keras's per-step
// LearningRateSchedules of the optimizer's iteration count, with their argument names;
// initial_learning_rate is the optimizer's learning_rate unless given here.
struct ScheduleSpec {
  std::string type = "constant";  // "constant", "exponential", "ExponentialDecay",
                                  // "PiecewiseConstantDecay", "CosineDecay", "CosineDecayRestarts"
  double decay_rate = 1.0;        // exponential, ExponentialDecay
  double minimum = 0.0;           // exponential
  double initial_learning_rate = 0.0;
  int64_t decay_steps = 1;          // ExponentialDecay, CosineDecay
  bool staircase = false;           // ExponentialDecay
  std::vector<int64_t> boundaries;  // PiecewiseConstantDecay
  std::vector<double> values;       //   one more than boundaries
  double alpha = 0.0;               // CosineDecay, CosineDecayRestarts
  bool has_warmup_target = false;   // CosineDecay: warmup_target given (Keras: not None)
  double warmup_target = 0.0;
  int64_t warmup_steps = 0;
  int64_t first_decay_steps = 1;  // CosineDecayRestarts
  double t_mul = 2.0, m_mul = 1.0;
};

// training.loss: sparse categorical cross-entropy of the fused softmax; label_smoothing as
// Keras's CategoricalCrossentropy applies it to the one-hot labels.
struct LossSpec {
  std::string type = "sparse_categorical_crossentropy";
  double label_smoothing = 0.0;
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

// training.reduce_lr_on_plateau: Keras's ReduceLROnPlateau callback (a constant rate only).
struct ReduceLROnPlateauSpec {
  bool enabled = false;  // the key is present
  std::string monitor = "val_loss";
  double factor = 0.1;
  int patience = 10;
  std::string mode = "auto";
  double min_delta = 1e-4;
  int cooldown = 0;
  double min_lr = 0.0;
};

struct TrainingSpec {
  int epochs = 10;
  int batch_size = 128;
  int64_t steps_per_epoch = 0;  // 0 = training examples // batch_size
  CheckpointSpec checkpoint;
  EarlyStoppingSpec early_stopping;
  BestModelSpec best_model;
  ReduceLROnPlateauSpec reduce_lr_on_plateau;
  LossSpec loss;
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
