#include "serve/metrics.h"

#include <algorithm>
#include <cstdio>

namespace mnistnet {
namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::vector<double> batch_bounds(int64_t max_batch) {
  std::vector<double> b;
  for (int64_t v = 1; v < max_batch; v *= 2) b.push_back(static_cast<double>(v));
  b.push_back(static_cast<double>(std::max<int64_t>(max_batch, 1)));
  return b;
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  ++counts_[static_cast<size_t>(it - bounds_.begin())];
  sum_ += value;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += name + "_bucket{le=\"" + number(bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  cumulative += counts_.back();
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  out += name + "_sum " + number(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
}

ServeMetrics::ServeMetrics(int64_t max_batch)
    : latency_({0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}),
      batch_size_(batch_bounds(max_batch)) {}

void ServeMetrics::count_request(const std::string& endpoint, int status, double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{endpoint, status}];
  if (seconds >= 0.0) latency_.observe(seconds);
}

void ServeMetrics::observe_batch(int64_t examples) {
  std::lock_guard lock(mutex_);
  batch_size_.observe(static_cast<double>(examples));
}

void ServeMetrics::set_model_version(int64_t version) {
  std::lock_guard lock(mutex_);
  version_ = version;
}

void ServeMetrics::count_reload(bool ok) {
  std::lock_guard lock(mutex_);
  ++(ok ? reloads_ok_ : reloads_failed_);
}

std::string ServeMetrics::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  out += "# HELP mnistnet_requests_total HTTP requests answered, by endpoint and status code.\n";
  out += "# TYPE mnistnet_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    out += "mnistnet_requests_total{endpoint=\"" + key.first + "\",code=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(count) + "\n";
  }
  latency_.render(out, "mnistnet_request_duration_seconds",
                  "Time from a request's arrival to its answer.");
  batch_size_.render(out, "mnistnet_batch_size", "Examples per forward pass of the batcher.");
  out += "# HELP mnistnet_model_version The version being served (1 at start, +1 per reload).\n";
  out += "# TYPE mnistnet_model_version gauge\nmnistnet_model_version " + std::to_string(version_) +
         "\n";
  out += "# HELP mnistnet_model_reloads_total Model reloads, by result.\n";
  out += "# TYPE mnistnet_model_reloads_total counter\n";
  out += "mnistnet_model_reloads_total{result=\"ok\"} " + std::to_string(reloads_ok_) + "\n";
  out +=
      "mnistnet_model_reloads_total{result=\"failed\"} " + std::to_string(reloads_failed_) + "\n";
  return out;
}

}  // namespace mnistnet
