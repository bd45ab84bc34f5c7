// Keras's EarlyStopping and ModelCheckpoint(save_best_only=True) (see early_stopping.h).
#include "train/early_stopping.h"

#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "model/weights.h"

namespace mnistnet {
namespace {

// Doubles as their bits: JSON has no infinity, and the best value starts at +-inf.
std::string double_bits(double v) { return std::to_string(std::bit_cast<uint64_t>(v)); }
double from_bits(const nlohmann::json& j) {
  return std::bit_cast<double>(std::stoull(j.get<std::string>()));
}

}  // namespace

MetricMonitor::MetricMonitor(std::string monitor, const std::string& mode, double min_delta)
    : monitor_(std::move(monitor)),
      maximise_(mode == "max" || (mode == "auto" && monitor_.find("acc") != std::string::npos)),
      min_delta_(std::abs(min_delta)) {}

double MetricMonitor::value(const EpochResult& r) const {
  if (monitor_ == "loss") return r.loss;
  if (monitor_ == "accuracy") return r.accuracy;
  if (monitor_ == "val_accuracy") return r.val_accuracy;
  return r.val_loss;
}

bool MetricMonitor::improves(double current, double reference) const {
  return maximise_ ? current - min_delta_ > reference : current + min_delta_ < reference;
}

double MetricMonitor::worst() const {
  return maximise_ ? -std::numeric_limits<double>::infinity()
                   : std::numeric_limits<double>::infinity();
}

std::vector<std::vector<float>> copy_model_weights(Model& model) {
  std::vector<std::vector<float>> weights;
  for (const ParamRef& p : model.params()) weights.emplace_back(p.value, p.value + p.size());
  return weights;
}

void set_model_weights(Model& model, const std::vector<std::vector<float>>& weights) {
  // The copy keeps values only; they are the model's own parameters, in its order.
  const std::vector<ParamRef> params = model.params();
  std::vector<NamedTensor> named;
  for (size_t i = 0; i < weights.size(); ++i) {
    const bool known = i < params.size();
    named.push_back({known ? params[i].name : "", known ? params[i].shape : Shape{}, weights[i]});
  }
  set_weights(model, named, "the best epoch's weights");
}

EarlyStopping::EarlyStopping(const EarlyStoppingSpec& spec)
    : spec_(spec), monitor_(spec.monitor, spec.mode, spec.min_delta), best_(monitor_.worst()) {}

bool EarlyStopping::on_epoch_end(int epoch, const EpochResult& result, Model& model) {
  if (!spec_.enabled || epoch < spec_.start_from_epoch) return false;
  const double current = monitor_.value(result);
  if (spec_.restore_best_weights && !has_best_weights_) {
    best_weights_ = copy_model_weights(model);  // until an epoch improves, this one is the best
    has_best_weights_ = true;
    best_epoch_ = epoch;
  }
  ++wait_;
  if (monitor_.improves(current, best_)) {
    best_ = current;
    best_epoch_ = epoch;
    if (spec_.restore_best_weights) best_weights_ = copy_model_weights(model);
    // Only a value that also beats the baseline restarts the patience.
    if (!spec_.has_baseline || monitor_.improves(current, spec_.baseline)) wait_ = 0;
    return false;
  }
  if (wait_ >= spec_.patience && epoch > 0) {
    stopped_epoch_ = epoch;
    return true;
  }
  return false;
}

bool EarlyStopping::on_train_end(Model& model) {
  if (!spec_.enabled || !spec_.restore_best_weights || !has_best_weights_) return false;
  set_model_weights(model, best_weights_);
  return true;
}

nlohmann::json EarlyStopping::state() const {
  return {{"wait", wait_},
          {"best", double_bits(best_)},
          {"best_epoch", best_epoch_},
          {"stopped_epoch", stopped_epoch_},
          {"has_best_weights", has_best_weights_}};
}

void EarlyStopping::restore(const nlohmann::json& state,
                            std::vector<std::vector<float>> best_weights) {
  if (!spec_.enabled) return;
  if (!state.is_object()) throw std::invalid_argument("no early-stopping state in the checkpoint");
  wait_ = state.at("wait").get<int>();
  best_ = from_bits(state.at("best"));
  best_epoch_ = state.at("best_epoch").get<int>();
  stopped_epoch_ = state.at("stopped_epoch").get<int>();
  has_best_weights_ = state.at("has_best_weights").get<bool>() && spec_.restore_best_weights;
  if (has_best_weights_ && best_weights.empty())
    throw std::invalid_argument("the checkpoint lacks the best weights restore_best_weights needs");
  best_weights_ = has_best_weights_ ? std::move(best_weights) : std::vector<std::vector<float>>{};
}

BestModelSaver::BestModelSaver(const BestModelSpec& spec, std::filesystem::path path,
                               ModelMeta meta)
    : monitor_(spec.monitor, spec.mode),
      path_(std::move(path)),
      meta_(std::move(meta)),
      best_(monitor_.worst()) {}

void BestModelSaver::on_epoch_end(const EpochResult& result) {
  const double current = monitor_.value(result);
  save_now_ = monitor_.improves(current, best_);
  if (save_now_) {
    best_ = current;
    best_epoch_ = result.epoch;
  }
}

void BestModelSaver::on_validation(Model& model, const std::vector<int32_t>& /*predicted*/) {
  if (save_now_) save_model(path_, model, meta_);
  save_now_ = false;
}

void BestModelSaver::save_state(nlohmann::json& state) const {
  state["best_model"] = {{"best", double_bits(best_)}, {"best_epoch", best_epoch_}};
}

void BestModelSaver::on_resume(const std::vector<EpochResult>& /*history*/,
                               const nlohmann::json& state) {
  if (!state.is_object() || !state.contains("best_model"))
    return;  // enabled by --force: start afresh
  best_ = from_bits(state["best_model"].at("best"));
  best_epoch_ = state["best_model"].at("best_epoch").get<int>();
}

}  // namespace mnistnet
