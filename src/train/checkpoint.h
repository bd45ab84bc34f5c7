#pragma once
// Checkpoints: everything a training run needs to continue exactly where it stopped, so that
// `mnistnet train --resume RUN` ends with the same CSV rows and a bit-identical model.
//
// File layout (.ckpt, little-endian):
//   bytes 0..7   "MNISTCKP"
//   u32          format version (1)
//   u32          header length H
//   u32          CRC-32 (zlib) of the header
//   H bytes      header JSON: the config, the progress, the small state, and
//                "sections": [{"name", "bytes", "crc32"}...] describing what follows
//   sections     back to back, as many bytes as the header says, nothing after the last one
// Each section has its own CRC-32, so a corrupt file is reported with the byte range of the
// damaged part, and a truncated one with the offset where it ends.
//
// Files live in <run>/checkpoints/ as ckpt-<global step>.ckpt, written atomically (temp file,
// fsync, rename, fsync of the directory), so a crash at any moment leaves every complete
// checkpoint loadable.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors.h"
#include "core/rng.h"
#include "core/shape.h"
#include "data/index_stream.h"
#include "model/weights.h"
#include "train/trainer.h"

namespace mnistnet {

// "RUN/checkpoints/ckpt-0000000120.ckpt: bytes 4210..12049 (param/dense/kernel): checksum ..."
class CheckpointError : public UserError {
 public:
  using UserError::UserError;
};

// Where the training loop stands.
struct TrainingProgress {
  int epoch = 0;            // the epoch in progress, 0-based (== epochs once training is over)
  int64_t step = 0;         // steps of that epoch already done
  int64_t global_step = 0;  // optimizer steps done over the whole run
  double lr = 0.0;          // the learning rate of that epoch (the schedule's position)
  double loss_sum = 0.0;    // that epoch so far: loss summed over its examples,
  int64_t correct = 0;      //   correct predictions,
  int64_t seen = 0;         //   examples,
  double seconds = 0.0;     //   training seconds
  bool stopped = false;     // early stopping ended the run
  std::vector<EpochResult> history;  // the finished epochs' CSV rows
};

struct Checkpoint {
  std::string source;       // the file it was read from (not stored), for messages
  std::string config_name;  // the run's name (the config file's stem)
  nlohmann::json config;    // the run's resolved config
  TrainingProgress progress;
  nlohmann::json early_stopping;        // EarlyStopping::state()
  nlohmann::json reduce_lr_on_plateau;  // ReduceLROnPlateau::state() (null: not used)
  nlohmann::json observers;             // TrainingObserver::save_state of every observer
  std::vector<NamedTensor> params;      // Model::params(): weights and batch-norm statistics
  std::string optimizer;                // "sgd", "adam", "adamw", "rmsprop"
  int64_t optimizer_iterations = 0;
  std::vector<std::vector<float>> optimizer_state;  // Optimizer::state()
  std::vector<Rng::State> layer_rngs;               // Model::training_rngs() (dropout masks)
  int64_t train_examples = 0;                       // the training set's size
  IndexStreamState data_stream;                     // the training data's position
  std::vector<std::vector<float>> best_weights;     // EarlyStopping's restore_best_weights copy
};

std::string encode_checkpoint(const Checkpoint& checkpoint);
// Throws CheckpointError "SOURCE: byte N: ..." for anything malformed, truncated or corrupt.
Checkpoint decode_checkpoint(std::string_view bytes, const std::string& source);

// Atomic, durable write (temp file, fsync, rename, directory fsync). UserError on failure.
void write_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint);
// CheckpointError naming the file (and byte offset) when it is missing or damaged.
Checkpoint read_checkpoint(const std::filesystem::path& path);

// <run>/checkpoints and the files in it.
std::filesystem::path checkpoint_dir(const std::filesystem::path& run_dir);
std::filesystem::path checkpoint_path(const std::filesystem::path& run_dir, int64_t global_step);
// The run's complete checkpoint files, oldest first (temporary files are not listed).
std::vector<std::filesystem::path> list_checkpoints(const std::filesystem::path& run_dir);
// Deletes all but the newest `keep` checkpoints, and temporary files left by a crash.
void prune_checkpoints(const std::filesystem::path& run_dir, int keep);

}  // namespace mnistnet
