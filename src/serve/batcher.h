#pragma once
// Dynamic batching (TensorFlow Serving's and Triton's batcher): requests that arrive together run
// as one forward pass, up to max_batch examples or batch_timeout of waiting for more after the
// first one. One thread owns inference, since a Model is not thread-safe; its maths runs on the
// engine's thread pool (parallel_for). Each example's answer is exactly what running it alone
// would give: the engine's arithmetic for one row does not depend on the rows beside it.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

namespace mnistnet {

struct ServedModel;
class ServeMetrics;

struct BatcherOptions {
  int64_t max_batch = 64;                      // examples per forward pass
  std::chrono::microseconds batch_timeout{0};  // the longest a request waits for company
};

// One request's examples. The caller owns it and blocks in DynamicBatcher::run until done.
struct BatchJob {
  std::shared_ptr<ServedModel> model;  // the version the request started on
  const float* pixels = nullptr;       // [count, input size], 0..255
  int64_t count = 0;
  std::vector<float> outputs;  // [count, num_outputs], sized by the caller: the model's outputs
  std::string error;           // set instead when the forward pass failed

  std::chrono::steady_clock::time_point queued;
  std::binary_semaphore done{0};
};

class DynamicBatcher {
 public:
  DynamicBatcher(BatcherOptions options, ServeMetrics& metrics);
  ~DynamicBatcher();  // finishes the queued jobs, then joins
  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  // Queues the job and waits until its outputs (or error) are set.
  void run(BatchJob& job);

 private:
  void loop();
  // Runs jobs_ [0, n) of the same model as one forward pass.
  void run_batch(std::vector<BatchJob*>& jobs);

  BatcherOptions options_;
  ServeMetrics& metrics_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<BatchJob*> queue_;
  int64_t queued_examples_ = 0;
  bool stopping_ = false;
  std::vector<float> input_;  // [batch, input size], scaled; grows to the largest batch once
  std::thread thread_;
};

}  // namespace mnistnet
