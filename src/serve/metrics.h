#pragma once
// The server's counters, rendered in Prometheus's text exposition format for GET /metrics:
// requests by endpoint and status code, a request-latency histogram, a batch-size histogram
// (examples per forward pass), the model's version and reloads. Thread-safe.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace mnistnet {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  // "# HELP"/"# TYPE" lines, cumulative _bucket{le=...} lines, _sum and _count.
  void render(std::string& out, const std::string& name, const std::string& help) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; the last is +Inf
  double sum_ = 0.0;
  uint64_t count_ = 0;
};

class ServeMetrics {
 public:
  explicit ServeMetrics(int64_t max_batch);

  void count_request(const std::string& endpoint, int status, double seconds);
  void observe_batch(int64_t examples);
  void set_model_version(int64_t version);
  void count_reload(bool ok);
  std::string render() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  Histogram latency_, batch_size_;
  int64_t version_ = 0;
  uint64_t reloads_ok_ = 0, reloads_failed_ = 0;
};

}  // namespace mnistnet
