#include "serve/batcher.h"

#include <algorithm>
#include <exception>

#include "core/denormals.h"
#include "serve/metrics.h"
#include "serve/model_store.h"

namespace mnistnet {

DynamicBatcher::DynamicBatcher(BatcherOptions options, ServeMetrics& metrics)
    : options_(options), metrics_(metrics) {
  options_.max_batch = std::max<int64_t>(options_.max_batch, 1);
  thread_ = std::thread([this] { loop(); });
}

DynamicBatcher::~DynamicBatcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void DynamicBatcher::run(BatchJob& job) {
  job.queued = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(&job);
    queued_examples_ += job.count;
  }
  cv_.notify_one();
  job.done.acquire();
}

void DynamicBatcher::loop() {
  flush_denormals_to_zero();  // per thread: the same arithmetic as predict and eval
  std::vector<BatchJob*> batch;
  std::unique_lock lock(mutex_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    const auto deadline = queue_.front()->queued + options_.batch_timeout;
    while (!stopping_ && queued_examples_ < options_.max_batch &&
           cv_.wait_until(lock, deadline) != std::cv_status::timeout) {
    }
    // The oldest job always goes; then the ones behind it on the same model, while they fit.
    batch.clear();
    int64_t examples = 0;
    const ServedModel* model = queue_.front()->model.get();
    while (!queue_.empty() && queue_.front()->model.get() == model &&
           (batch.empty() || examples + queue_.front()->count <= options_.max_batch)) {
      batch.push_back(queue_.front());
      examples += queue_.front()->count;
      queue_.pop_front();
    }
    queued_examples_ -= examples;
    lock.unlock();
    run_batch(batch);
    lock.lock();
  }
}

void DynamicBatcher::run_batch(std::vector<BatchJob*>& jobs) {
  ServedModel& served = *jobs.front()->model;
  Model& model = served.loaded.model;
  const auto in = static_cast<size_t>(model.input_size());
  const auto out = static_cast<size_t>(model.num_outputs());
  size_t total = 0;
  for (const BatchJob* job : jobs) total += static_cast<size_t>(job->count);
  if (input_.size() < total * in) input_.resize(total * in);
  // Pixels are scaled as predict scales them: value * (1 / pixel_divisor), in float.
  float* x = input_.data();
  for (const BatchJob* job : jobs) {
    const size_t n = static_cast<size_t>(job->count) * in;
    for (size_t i = 0; i < n; ++i) x[i] = job->pixels[i] * served.scale;
    x += n;
  }
  try {
    const float* y = model.predict(input_.data(), static_cast<int64_t>(total));
    for (BatchJob* job : jobs) {
      const size_t n = static_cast<size_t>(job->count) * out;
      std::copy(y, y + n, job->outputs.begin());  // sized by the caller
      y += n;
    }
  } catch (const std::exception& e) {
    for (BatchJob* job : jobs) job->error = e.what();
  }
  metrics_.observe_batch(static_cast<int64_t>(total));
  for (BatchJob* job : jobs) job->done.release();
}

}  // namespace mnistnet
