// mnistnet bench (after Caffe's `caffe time`): training and inference speed of a config's model
// on real-shaped random data, with a per-layer profile. Needs no data files.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "cli/commands.h"
#include "config/config_loader.h"
#include "core/blas.h"
#include "core/cpu_blas_core.h"
#include "core/cpu_dispatch.h"
#include "core/denormals.h"
#include "core/parallel_for.h"
#include "core/rng.h"
#include "model/model_file.h"
#include "train/sgemm_peak.h"
#include "train/trainer.h"

namespace mnistnet {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// 60,000 random images shaped like the model's input.
Dataset random_dataset(const Model& model, uint64_t seed) {
  Dataset d;
  d.count = 60000;
  const Shape& in = model.input_shape();  // an image shape, or flat (28x28 when 784 values)
  d.rows = in.size() == 3 ? static_cast<int>(in[0]) : model.input_size() == 784 ? 28 : 1;
  d.channels = in.size() == 3 ? static_cast<int>(in[2]) : 1;
  d.cols = static_cast<int>(model.input_size() / d.rows / d.channels);
  d.pixels.resize(static_cast<size_t>(d.count * d.image_size()));
  d.labels.resize(static_cast<size_t>(d.count));
  Rng rng(seed);
  for (auto& p : d.pixels) p = static_cast<uint8_t>(rng.below(256));
  for (auto& l : d.labels)
    l = static_cast<uint8_t>(rng.below(static_cast<uint64_t>(model.num_outputs())));
  return d;
}

struct LayerRow {
  std::string name, type;
  double forward_ms = 0, backward_ms = 0, share = 0, mflop = 0, gflops = 0;
  double infer_ms = 0;  // per inference pass (of --infer-batch images)
  bool folded = false;  // runs inside the op before it in inference
};

}  // namespace

int run_bench(const BenchOptions& options) {
  flush_denormals_to_zero();
  Config config = load_config(options.config, options.overrides);
  set_parallel_threads(options.threads > 0 ? options.threads : config.training.threads);
  Model model = Model::build(config.model, Rng::derive(config.seed, 1));
  if (!options.weights.empty()) {
    LoadedModel trained = load_model(options.weights);
    copy_weights(trained.model, model, options.weights);
  }
  const Dataset data = random_dataset(model, config.seed);
  const int batch_size = config.training.batch_size;

  const PipelineSpec spec = training_pipeline_spec(config);  // as `train` streams it
  Pipeline pipeline(data, spec);
  auto optimizer = make_optimizer(config.training.optimizer);
  optimizer->attach(model.params());
  const auto lr = static_cast<float>(config.training.optimizer.learning_rate);

  // Training: whole steps, as the trainer runs them (batch from the pipeline included).
  for (int64_t i = 0; i < options.warmup; ++i) train_step(model, *optimizer, *pipeline.next(), lr);
  const auto start = Clock::now();
  for (int64_t i = 0; i < options.steps; ++i) train_step(model, *optimizer, *pipeline.next(), lr);
  const double train_seconds = seconds_since(start);
  const double step_ms = 1e3 * train_seconds / static_cast<double>(options.steps);
  const double train_ips = static_cast<double>(options.steps * batch_size) / train_seconds;
  // Training FLOPs by the usual convention: backward costs twice the forward.
  const double step_flops = 3.0 * static_cast<double>(model.forward_flops()) * batch_size;
  const double gflops = step_flops / (step_ms * 1e-3) / 1e9;

  // Per-layer profile over a separate run, so the timers do not colour the figures above.
  const int64_t profiled = std::max<int64_t>(options.steps / 2, 10);
  model.set_profiling(true);
  for (int64_t i = 0; i < profiled; ++i) train_step(model, *optimizer, *pipeline.next(), lr);
  std::vector<LayerRow> rows;
  double layers_ms = 0;
  for (const OpProfile& p : model.profile()) {
    LayerRow r;
    r.name = p.group;
    r.type = p.fused ? p.type + " (fused)" : p.type;
    r.forward_ms = 1e3 * p.forward_seconds / static_cast<double>(profiled);
    r.backward_ms = 1e3 * p.backward_seconds / static_cast<double>(profiled);
    r.mflop = 3.0 * static_cast<double>(p.forward_flops) * batch_size / 1e6;
    const double ms = r.forward_ms + r.backward_ms;
    r.gflops = ms > 0 ? r.mflop / ms : 0.0;  // MFLOP per ms = GFLOP/s
    layers_ms += ms;
    rows.push_back(r);
  }
  model.set_profiling(false);
  for (LayerRow& r : rows)
    r.share = layers_ms > 0 ? (r.forward_ms + r.backward_ms) / layers_ms : 0.0;

  // Inference: eval-mode forward of large batches, as `eval` runs them.
  model.set_batch_norm_folding(!options.no_fold);
  const int64_t infer_batch = std::min<int64_t>(options.infer_batch, data.count);
  std::vector<float> images(static_cast<size_t>(infer_batch * model.input_size()));
  for (size_t i = 0; i < images.size(); ++i)
    images[i] = static_cast<float>(data.pixels[i]) * spec.pixel_scale;
  // Passes for at least a second (and 3 passes), each timed on its own: at batch 1 the mean
  // and median of the passes are the latency of one image, as ONNX Runtime's are measured.
  const int64_t min_rounds = std::max<int64_t>(3, options.steps / 20);
  for (int i = 0; i < 3; ++i) model.forward_logits(images.data(), infer_batch, false);
  std::vector<double> pass_seconds;
  pass_seconds.reserve(4096);
  const auto infer_start = Clock::now();
  double infer_seconds = 0;
  while (static_cast<int64_t>(pass_seconds.size()) < min_rounds || infer_seconds < 1.0) {
    const auto pass_start = Clock::now();
    model.forward_logits(images.data(), infer_batch, false);
    pass_seconds.push_back(seconds_since(pass_start));
    infer_seconds = seconds_since(infer_start);
  }
  const auto infer_rounds = static_cast<int64_t>(pass_seconds.size());
  const double infer_ips = static_cast<double>(infer_rounds * infer_batch) / infer_seconds;
  std::nth_element(pass_seconds.begin(), pass_seconds.begin() + infer_rounds / 2,
                   pass_seconds.end());
  const double infer_median_ms = 1e3 * pass_seconds[static_cast<size_t>(infer_rounds / 2)];
  const double infer_mean_ms = 1e3 * infer_seconds / static_cast<double>(infer_rounds);

  // Per-layer inference profile, over passes of their own.
  model.set_profiling(true);
  const int64_t profiled_passes = std::max<int64_t>(infer_rounds / 2, 3);
  for (int64_t i = 0; i < profiled_passes; ++i)
    model.forward_logits(images.data(), infer_batch, false);
  double infer_layers_ms = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const OpProfile& p = model.profile()[i];
    rows[i].infer_ms = 1e3 * p.infer_seconds / static_cast<double>(profiled_passes);
    rows[i].folded = p.folded;
    infer_layers_ms += rows[i].infer_ms;
  }
  model.set_profiling(false);

  const double peak = options.peak ? measure_sgemm_peak_gflops() : 0.0;

  // The training arena the planner sized, next to one buffer per tensor.
  const ActivationMemory memory = model.activation_memory(batch_size);
  const auto memory_mb = [](int64_t floats) { return static_cast<double>(floats) * 4.0 / 1e6; };

  const std::string machine = machine_description();
  if (options.json) {
    nlohmann::json layers = nlohmann::json::array();
    for (const LayerRow& r : rows)
      layers.push_back({{"name", r.name},
                        {"type", r.type},
                        {"forward_ms", r.forward_ms},
                        {"backward_ms", r.backward_ms},
                        {"infer_ms", r.infer_ms},
                        {"infer_folded", r.folded},
                        {"share", r.share},
                        {"mflop_per_step", r.mflop},
                        {"gflops", r.gflops}});
    nlohmann::json out = {
        {"config", config.name},
        {"batch_size", batch_size},
        {"steps", options.steps},
        {"threads", parallel_threads()},
        {"train_images_per_sec", train_ips},
        {"infer_images_per_sec", infer_ips},
        {"infer_batch", infer_batch},
        {"infer_passes", infer_rounds},
        {"infer_mean_ms", infer_mean_ms},
        {"infer_median_ms", infer_median_ms},
        {"ms_per_step", step_ms},
        {"gflops", gflops},
        {"forward_mflop_per_image", static_cast<double>(model.forward_flops()) / 1e6},
        {"activation_mb", memory_mb(memory.planned)},
        {"activation_mb_unplanned", memory_mb(memory.sum)},
        {"layers", layers},
        {"cpu", cpu_description(host_cpu())},
        {"blas_core", blas_core_name()},
        {"kernels", isa_name(engine_isa())}};
    if (options.peak) {
      out["peak_gflops"] = peak;
      out["peak_share"] = gflops / peak;
    }
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  std::printf("%s\n", machine.c_str());
  std::printf("%s: batch %d, %lld steps after %lld warm-up, %d threads\n", config.name.c_str(),
              batch_size, static_cast<long long>(options.steps),
              static_cast<long long>(options.warmup), parallel_threads());
  std::printf("training:  %10.1f images/s  %8.2f ms/step  %6.1f GFLOP/s", train_ips, step_ms,
              gflops);
  if (options.peak)
    std::printf("  (%.0f%% of the %.1f GFLOP/s SGEMM peak)", 100.0 * gflops / peak, peak);
  std::printf("\ninference: %10.1f images/s  (batch %lld; %.3f ms mean, %.3f ms median per pass)\n",
              infer_ips, static_cast<long long>(infer_batch), infer_mean_ms, infer_median_ms);
  std::printf("activation memory: %.1f MB planned (%.1f MB as one buffer per tensor)\n\n",
              memory_mb(memory.planned), memory_mb(memory.sum));
  std::printf("%-24s %-20s %10s %10s %7s %10s %8s %10s\n", "layer", "op", "fwd ms", "bwd ms",
              "share", "MFLOP", "GFLOP/s", "infer ms");
  for (const LayerRow& r : rows) {
    std::printf("%-24s %-20s %10.3f %10.3f %6.1f%% %10.1f %8.1f ", r.name.c_str(), r.type.c_str(),
                r.forward_ms, r.backward_ms, 100.0 * r.share, r.mflop, r.gflops);
    if (r.folded) {
      std::printf("%10s\n", "(folded)");
    } else {
      std::printf("%10.3f\n", r.infer_ms);
    }
  }
  std::printf("%-45s %21.3f ms/step (the rest of the %.3f ms: loss, update, input)\n", "layers",
              layers_ms, step_ms);
  std::printf("%-45s %21.3f ms/pass of %lld images (the rest of the %.3f ms: the copy out)\n",
              "layers, inference", infer_layers_ms, static_cast<long long>(infer_batch),
              infer_mean_ms);
  return 0;
}

}  // namespace mnistnet
