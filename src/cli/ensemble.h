#pragma once
// Ensembles for `eval` and `predict`: several saved models (a sweep's best trials, the seeds of
// one config) whose class probabilities are averaged, each model seeing the images scaled by
// its own pixel_divisor.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "model/model_file.h"
#include "train/trainer.h"

namespace mnistnet {

struct EnsembleMember {
  std::filesystem::path path;
  LoadedModel loaded;
};

// Loads every model (an empty list: the latest run's model). UserError naming the file when a
// model takes another image shape or input, or has other classes (count or names), or another
// predict preprocessing, than the first.
std::vector<EnsembleMember> load_ensemble(const std::vector<std::string>& given);

// The members' mean class probabilities for `count` images of `pixels` ([count, image size]
// bytes): out [count, classes]. x is scratch for the scaled input. One member gives exactly its
// own probabilities (output_probabilities of its outputs).
void ensemble_probabilities(std::vector<EnsembleMember>& members, const uint8_t* pixels,
                            int64_t count, std::vector<float>& x, std::vector<float>& out);

// Evaluates the mean probabilities on the whole data set, in batches of batch_size: accuracy of
// their arg-max (ties to the lower class), loss the mean of -log(p of the true class), p clipped
// at 1e-7 as Keras's crossentropy of probabilities does. `predicted` gets each arg-max class.
Evaluation evaluate_ensemble(std::vector<EnsembleMember>& members, const Dataset& data,
                             int64_t batch_size, std::vector<int32_t>* predicted);

// "a.mnn" or "an ensemble of 3 models (a.mnn, b.mnn, c.mnn)", for the output's first line.
std::string ensemble_name(const std::vector<EnsembleMember>& members);

}  // namespace mnistnet
