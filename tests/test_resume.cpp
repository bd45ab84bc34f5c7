// In-process exact resume: a run stopped after any step and resumed from its checkpoint ends
// with the same weights (bit for bit) and the same epoch rows as an uninterrupted run.
#include <catch2/catch.hpp>

#include "core/rng.h"
#include "resume_fixture.h"

using namespace mnistnet;
using namespace mnistnet::testing;

namespace {

struct Outcome {
  std::vector<std::vector<float>> weights;
  std::vector<EpochResult> history;
};

const Dataset& train_set() {
  static const Dataset d = synthetic_dataset(160, 8, 8);
  return d;
}
const Dataset& validation_set() {
  static const Dataset d = synthetic_dataset(40, 8, 8);
  return d;
}

Outcome uninterrupted(const Config& c, const std::filesystem::path& run_dir) {
  Model model = Model::build(c.model, Rng::derive(c.seed, 1));
  const FitResult r =
      fit(model, train_set(), validation_set(), c, {}, {.run_dir = run_dir, .run_name = "t"});
  return {weights_of(model), r.history};
}

// Stops after global step `stop_at`, then resumes in a fresh model from the newest checkpoint
// (as a new process would).
Outcome interrupted_then_resumed(const Config& c, const std::filesystem::path& run_dir,
                                 int64_t stop_at) {
  {
    Model model = Model::build(c.model, Rng::derive(c.seed, 1));
    StopAtStep stop(stop_at);
    const FitResult r = fit(model, train_set(), validation_set(), c, {&stop},
                            {.run_dir = run_dir, .run_name = "t", .stop_request = &stop.flag});
    REQUIRE(r.interrupted_by == 2);
  }
  const Checkpoint checkpoint = read_checkpoint(list_checkpoints(run_dir).back());
  CHECK(checkpoint.progress.global_step == stop_at);
  Model model = Model::build(
      c.model,
      Rng::derive(c.seed + 1000, 1));  // other initial weights: all must come from the checkpoint
  const FitResult r = fit(model, train_set(), validation_set(), c, {},
                          {.run_dir = run_dir, .run_name = "t", .resume = &checkpoint});
  CHECK(r.interrupted_by == 0);
  return {weights_of(model), r.history};
}

}  // namespace

TEST_CASE("A run stopped at any step and resumed ends bit-identical to an uninterrupted one",
          "[resume]") {
  for (const uint64_t seed : {1u, 7u, 42u}) {
    const Config c = resume_config(seed, {"training.checkpoint.save_freq=4"});
    TempDir reference_dir;
    const Outcome reference = uninterrupted(c, reference_dir.path);
    Rng pick(seed);
    const int64_t steps = 3 * (160 / 16);
    for (int trial = 0; trial < 3; ++trial) {
      const auto stop_at = static_cast<int64_t>(1 + pick.below(static_cast<uint64_t>(steps - 1)));
      INFO("seed " << seed << ", stopped after step " << stop_at);
      TempDir dir;
      const Outcome resumed = interrupted_then_resumed(c, dir.path, stop_at);
      CHECK(resumed.weights == reference.weights);
      CHECK(rows_without_seconds(resumed.history) == rows_without_seconds(reference.history));
    }
  }
}

TEST_CASE("Resuming at an epoch boundary and at the very last step is exact too", "[resume]") {
  const Config c = resume_config(5, {"data.prefetch=0", "data.reshuffle_each_iteration=false"});
  TempDir reference_dir;
  const Outcome reference = uninterrupted(c, reference_dir.path);
  for (const int64_t stop_at : {int64_t{10}, int64_t{20}, int64_t{30}}) {
    INFO("stopped after step " << stop_at);
    TempDir dir;
    const Outcome resumed = interrupted_then_resumed(c, dir.path, stop_at);
    CHECK(resumed.weights == reference.weights);
    CHECK(rows_without_seconds(resumed.history) == rows_without_seconds(reference.history));
  }
}

TEST_CASE("Checkpoints are kept to the configured number", "[resume]") {
  const Config c =
      resume_config(3, {"training.checkpoint.save_freq=3", "training.checkpoint.keep=2"});
  TempDir dir;
  uninterrupted(c, dir.path);
  const auto files = list_checkpoints(dir.path);
  REQUIRE(files.size() == 2);
  CHECK(files.back().filename() == "ckpt-0000000030.ckpt");
  CHECK(files.front().filename() == "ckpt-0000000027.ckpt");
}

TEST_CASE("A new run in an old run's directory starts its own checkpoints", "[resume]") {
  TempDir dir;
  uninterrupted(resume_config(3, {"training.epochs=3"}), dir.path);
  REQUIRE(list_checkpoints(dir.path).back().filename() == "ckpt-0000000030.ckpt");
  uninterrupted(resume_config(4, {"training.epochs=1"}), dir.path);
  const auto files = list_checkpoints(dir.path);
  REQUIRE(files.size() == 2);
  CHECK(files.back().filename() == "ckpt-0000000010.ckpt");
  CHECK(read_checkpoint(files.back()).config["seed"] == 4);
}
