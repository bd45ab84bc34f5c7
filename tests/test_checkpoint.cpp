// The checkpoint format and the pieces of state it carries: generator, shuffle stream (with a
// prefetch thread running ahead), optimizer; damaged files give one line with the byte offset.
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <thread>

#include "core/rng.h"
#include "data/pipeline.h"
#include "optim/optimizer.h"
#include "resume_fixture.h"

using namespace mnistnet;
using namespace mnistnet::testing;
using Catch::Contains;
using Catch::StartsWith;

namespace {

Checkpoint sample_checkpoint() {
  Checkpoint c;
  c.config_name = "sample";
  c.config = {{"seed", 1}};
  c.progress.epoch = 2;
  c.progress.step = 7;
  c.progress.global_step = 47;
  c.progress.lr = 0.1 / 3;
  c.progress.loss_sum = 1.0 / 7;
  c.progress.correct = 5;
  c.progress.seen = 112;
  c.progress.history = {{0, 0.5, 1.25, 0.1, 0.25, std::nan(""), 1.5},
                        {1, 0.75, 0.5, 0.07, 0.5, 0.75, 1.0 / 3}};
  c.early_stopping = {{"wait", 1}};
  c.observers = {{"x", 2}};
  c.params = {{"dense/kernel", {2, 3}, {1, 2, 3, 4, 5, 6}},
              {"dense/bias", {3}, {-1, 0.5f, 1e-30f}}};
  c.optimizer = "adam";
  c.optimizer_iterations = 47;
  c.optimizer_state = {{1, 2, 3, 4, 5, 6}, {0.1f, 0.2f, 0.3f}, {7, 8, 9, 10, 11, 12}, {0, 0, 0}};
  c.layer_rngs = {Rng(3).state()};
  c.train_examples = 160;
  c.data_stream = {.pass = 2, .next_input = 90, .rng = Rng(4).state(), .buffer = {3, 80, 12}};
  c.best_weights = {{9, 9}};
  return c;
}

}  // namespace

TEST_CASE("A checkpoint round-trips through its file format exactly", "[checkpoint]") {
  const Checkpoint c = sample_checkpoint();
  const Checkpoint d = decode_checkpoint(encode_checkpoint(c), "x.ckpt");
  CHECK(d.source == "x.ckpt");
  CHECK(d.config_name == c.config_name);
  CHECK(d.config == c.config);
  CHECK(d.progress.lr == c.progress.lr);
  CHECK(d.progress.loss_sum == c.progress.loss_sum);
  CHECK(d.progress.global_step == 47);
  REQUIRE(d.progress.history.size() == 2);
  CHECK(std::isnan(d.progress.history[0].val_loss));
  CHECK(d.progress.history[1].seconds == c.progress.history[1].seconds);
  CHECK(d.params.size() == 2);
  CHECK(d.params[1].values == c.params[1].values);
  CHECK(d.params[0].shape == Shape{2, 3});
  CHECK(d.optimizer_state == c.optimizer_state);
  CHECK(d.optimizer_iterations == 47);
  CHECK(d.layer_rngs == c.layer_rngs);
  CHECK(d.data_stream.buffer == c.data_stream.buffer);
  CHECK(d.data_stream.rng == c.data_stream.rng);
  CHECK(d.data_stream.next_input == 90);
  CHECK(d.best_weights == c.best_weights);
  CHECK(encode_checkpoint(d) == encode_checkpoint(c));
}

TEST_CASE("A damaged checkpoint is one line naming the file and the byte offset", "[checkpoint]") {
  const std::string bytes = encode_checkpoint(sample_checkpoint());
  auto error_of = [](const std::string& b) {
    try {
      decode_checkpoint(b, "run/checkpoints/ckpt-0000000047.ckpt");
    } catch (const CheckpointError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string where = "run/checkpoints/ckpt-0000000047.ckpt: ";
  CHECK(error_of("") == where +
                            "byte 0: the file ends after 0 bytes, inside the 20-byte preamble "
                            "(truncated checkpoint)");
  CHECK(error_of("MNISTNET" + bytes.substr(8)) ==
        where + "byte 0: not an mnistnet checkpoint (expected the magic \"MNISTCKP\")");
  CHECK_THAT(error_of(bytes.substr(0, 40)),
             StartsWith(where + "byte 40: the file ends inside the header"));
  // Truncated anywhere in the sections: the offset where it ends and the section it cut.
  for (const size_t cut : {bytes.size() - 1, bytes.size() - 30, bytes.size() - 60}) {
    CHECK_THAT(error_of(bytes.substr(0, cut)), StartsWith(where + "byte " + std::to_string(cut) +
                                                          ": the file ends inside section ") &&
                                                   Contains("truncated"));
  }
  // A flipped bit anywhere is caught by a checksum and located to its section's bytes.
  for (size_t at = 8; at < bytes.size(); at += 37) {
    std::string damaged = bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x10);
    const std::string e = error_of(damaged);
    INFO("flipped byte " << at << ": " << e);
    CHECK_THAT(e, StartsWith(where));
    CHECK(e != "no error");
    CHECK(e.find('\n') == std::string::npos);
  }
  std::string flipped = bytes;
  flipped[bytes.size() - 2] ^= 1;
  CHECK_THAT(error_of(flipped), Contains("(best/0): checksum mismatch, the file is corrupt"));
  CHECK_THAT(error_of(bytes + "xyz"), Contains("3 unexpected bytes after the last section"));
  CHECK_THAT(
      [&] {
        try {
          read_checkpoint("/nonexistent/ckpt-0000000001.ckpt");
        } catch (const CheckpointError& e) {
          return std::string(e.what());
        }
        return std::string();
      }(),
      Contains(
          "/nonexistent/ckpt-0000000001.ckpt: cannot open the checkpoint (it does not exist)"));
}

TEST_CASE("An Rng continues its sequence from a saved state and refuses the zero state",
          "[checkpoint]") {
  Rng a(17);
  for (int i = 0; i < 5; ++i) a.next_u64();
  Rng b(99);
  b.set_state(a.state());
  for (int i = 0; i < 10; ++i) CHECK(a.next_u64() == b.next_u64());
  CHECK_THROWS_AS(b.set_state({0, 0, 0, 0}), std::invalid_argument);
}

TEST_CASE(
    "A pipeline restored from the consumer's stream state hands out the same batches with or "
    "without prefetch",
    "[checkpoint]") {
  const Dataset data = synthetic_dataset(53, 2, 2);
  for (const int prefetch : {0, 3}) {
    for (const int64_t buffer : {int64_t{0}, int64_t{10}, int64_t{1000}}) {
      INFO("prefetch " << prefetch << ", shuffle buffer " << buffer);
      PipelineSpec spec{.shuffle_buffer = buffer,
                        .repeat = true,
                        .batch_size = 7,
                        .drop_remainder = true,
                        .prefetch = prefetch,
                        .seed = 5};
      Pipeline whole(data, spec);
      std::vector<uint32_t> expected;
      for (int i = 0; i < 30; ++i) {
        const Batch b = *whole.next();
        expected.insert(expected.end(), b.indices, b.indices + b.size);
      }
      for (const int split : {1, 7, 8, 15}) {
        Pipeline first(data, spec);
        std::vector<uint32_t> got;
        for (int i = 0; i < split; ++i) {
          const Batch b = *first.next();
          got.insert(got.end(), b.indices, b.indices + b.size);
        }
        std::this_thread::sleep_for(
            std::chrono::milliseconds(2));  // let the prefetch thread run ahead
        const IndexStreamState state = first.stream_state();
        CHECK(first.examples_consumed() == split * 7);
        Pipeline second(data, spec, &state);
        for (int i = split; i < 30; ++i) {
          const Batch b = *second.next();
          got.insert(got.end(), b.indices, b.indices + b.size);
        }
        CHECK(got == expected);
      }
    }
  }
}

TEST_CASE("A stream state that cannot belong to the spec is refused", "[checkpoint]") {
  IndexStream stream(IndexStreamSpec{.count = 20, .shuffle_buffer = 5, .repeat = true, .seed = 1});
  IndexStreamState s = stream.state();
  s.buffer.push_back(3);  // six entries for five slots
  CHECK_THROWS_AS(stream.restore(s), std::invalid_argument);
  s = stream.state();
  s.buffer[0] = 17;  // not read yet
  CHECK_THROWS_AS(stream.restore(s), std::invalid_argument);
  s = stream.state();
  s.next_input = 21;
  CHECK_THROWS_AS(stream.restore(s), std::invalid_argument);
}

TEST_CASE("An optimizer restored from its state continues as if never stopped", "[checkpoint]") {
  for (const char* type : {"adam", "sgd"}) {
    INFO(type);
    OptimizerSpec spec;
    spec.type = type;
    spec.momentum = 0.9;
    std::vector<float> w1{1, 2, 3}, g{0.5f, -1, 2}, w2;
    std::vector<ParamRef> p1{{"w", {3}, w1.data(), g.data(), true}};
    auto a = make_optimizer(spec);
    a->attach(p1);
    for (int i = 0; i < 3; ++i) a->step(0.1f);
    w2 = w1;
    std::vector<ParamRef> p2{{"w", {3}, w2.data(), g.data(), true}};
    auto b = make_optimizer(spec);
    b->attach(p2);
    b->restore(a->iterations(), a->state());
    for (int i = 0; i < 3; ++i) {
      a->step(0.1f);
      b->step(0.1f);
    }
    CHECK(w1 == w2);
    CHECK(b->iterations() == 6);
    CHECK_THROWS_AS(b->restore(1, {{1.0f}}), std::invalid_argument);
  }
}

TEST_CASE("The training.checkpoint and early_stopping and best_model config keys",
          "[checkpoint][config]") {
  Config c = resume_config(1);
  CHECK(c.training.checkpoint.save_freq == 0);
  CHECK(c.training.checkpoint.keep == 2);
  CHECK_FALSE(c.training.early_stopping.enabled);
  CHECK_FALSE(c.training.best_model.enabled);
  c = resume_config(
      1, {"training.checkpoint.save_freq=epoch", "training.checkpoint.keep=5",
          "training.early_stopping.monitor=val_accuracy", "training.early_stopping.baseline=0.9",
          "training.best_model.monitor=accuracy"});
  CHECK(c.training.checkpoint.save_freq == 0);
  CHECK(c.training.checkpoint.keep == 5);
  CHECK(c.training.early_stopping.enabled);
  CHECK(c.training.early_stopping.has_baseline);
  CHECK(c.training.early_stopping.baseline == 0.9);
  CHECK(c.training.best_model.file == "best_model.mnn");
  CHECK(resume_config(1, {"training.checkpoint.save_freq=100"}).training.checkpoint.save_freq ==
        100);
  auto error_of = [](const std::string& override_) {
    try {
      resume_config(1, {override_});
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(error_of("training.checkpoint.save_freq=batch"),
             Contains("/training/checkpoint/save_freq"));
  CHECK_THAT(error_of("training.checkpoint.save_freq=0"),
             Contains("/training/checkpoint/save_freq"));
  CHECK_THAT(error_of("training.checkpoint.every=3"), Contains("/training/checkpoint/every"));
  CHECK_THAT(error_of("training.early_stopping.monitor=val_acc"),
             Contains("/training/early_stopping/monitor"));
  CHECK_THAT(error_of("training.best_model.file=a/b.mnn"), Contains("/training/best_model/file"));
}
