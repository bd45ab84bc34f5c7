// The per-batch hot loop allocates nothing once the first steps have sized every buffer.
#include <catch2/catch.hpp>
#include <filesystem>

#include "allocation_counter.h"
#include "config/config_loader.h"
#include "synthetic_idx.h"
#include "train/trainer.h"

using namespace mnistnet;

namespace {

void require_no_allocation_in_steady_state(const std::string& config_name) {
  INFO(config_name);
  Config c = load_config(
      (std::filesystem::path(MNISTNET_SOURCE_DIR) / "configs" / (config_name + ".json")).string());
  Model model = Model::build(c.model, c.seed);
  const Dataset data = mnistnet::testing::synthetic_dataset(512);
  PipelineSpec spec;
  spec.shuffle_buffer = 100;
  spec.repeat = true;
  spec.batch_size = 32;
  spec.drop_remainder = true;
  spec.prefetch = 2;
  Pipeline pipeline(data, spec);
  auto optimizer = make_optimizer(c.training.optimizer);
  optimizer->attach(model.params());
  for (int i = 0; i < 3; ++i) train_step(model, *optimizer, *pipeline.next(), 0.001f);
  const uint64_t before = mnistnet::testing::allocation_count();
  for (int i = 0; i < 5; ++i) train_step(model, *optimizer, *pipeline.next(), 0.001f);
  CHECK(mnistnet::testing::allocation_count() == before);

  // Inference likewise, once its buffers exist.
  std::vector<float> images(300 * 784, 0.5f);
  model.predict(images.data(), 300);
  const uint64_t before_inference = mnistnet::testing::allocation_count();
  model.predict(images.data(), 300);
  model.forward_logits(images.data(), 300, false);
  CHECK(mnistnet::testing::allocation_count() == before_inference);
}

}  // namespace

TEST_CASE("Training and inference steps allocate nothing in steady state", "[steady_state]") {
  for (const char* name : {"dense2", "dense_dropout", "conv", "conv_bn"})
    require_no_allocation_in_steady_state(name);
}

TEST_CASE("mobilenet's depthwise and separable steps allocate nothing in steady state",
          "[steady_state][depthwise]") {
  require_no_allocation_in_steady_state("mobilenet");
}
