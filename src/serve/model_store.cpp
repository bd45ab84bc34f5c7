#include "serve/model_store.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <exception>

#include "serve/metrics.h"

namespace mnistnet {

ModelStore::ModelStore(std::filesystem::path path, ServeMetrics& metrics)
    : path_(std::move(path)), metrics_(metrics) {
  stamp_ = stamp();
  current_ = load(1);
  metrics_.set_model_version(1);
}

ModelStore::~ModelStore() {
  {
    std::lock_guard lock(watch_mutex_);
    stopping_ = true;
  }
  watch_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

std::shared_ptr<ServedModel> ModelStore::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

ModelStore::FileStamp ModelStore::stamp() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return {};
  FileStamp s;
  s.size = static_cast<int64_t>(st.st_size);
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  s.inode = static_cast<uint64_t>(st.st_ino);
  return s;
}

std::shared_ptr<ServedModel> ModelStore::load(int64_t version) const {
  auto served = std::make_shared<ServedModel>(ServedModel{load_model(path_), {}, version, 1.0f});
  served->signature =
      make_input_signature(served->loaded.model.input_shape(), served->loaded.meta.image);
  served->scale = static_cast<float>(1.0 / served->loaded.meta.pixel_divisor);
  // predict refuses such a model; serve still takes its pixels, and says once why not images.
  if (!served->signature.takes_images())
    spdlog::warn("{}: {}; requests must send pixels, not images", path_.string(),
                 served->signature.image_mismatch);
  return served;
}

bool ModelStore::reload(const std::string& why) {
  std::lock_guard reload_lock(reload_mutex_);
  const FileStamp seen = stamp();
  const int64_t version = current()->version + 1;
  try {
    auto next = load(version);
    {
      std::lock_guard lock(mutex_);
      current_ = std::move(next);
      stamp_ = seen;
    }
    metrics_.set_model_version(version);
    metrics_.count_reload(true);
    spdlog::info("{}: reloaded ({}), now version {}", path_.string(), why, version);
    return true;
  } catch (const std::exception& e) {
    {
      std::lock_guard lock(mutex_);
      stamp_ = seen;  // do not retry the same broken file every interval
    }
    metrics_.count_reload(false);
    spdlog::error("reload ({}) failed, version {} keeps serving: {}", why, version - 1, e.what());
    return false;
  }
}

void ModelStore::watch(std::chrono::milliseconds interval) {
  watcher_ = std::thread([this, interval] {
    std::unique_lock lock(watch_mutex_);
    while (!watch_cv_.wait_for(lock, interval, [this] { return stopping_; })) {
      const FileStamp now = stamp();
      FileStamp known;
      {
        std::lock_guard guard(mutex_);
        known = stamp_;
      }
      // A file being rewritten in place may be caught half-written: it fails its checksum,
      // the old model keeps serving, and the next change (the write completing) reloads.
      if (now.size >= 0 && !(now == known)) {
        lock.unlock();
        reload("the model file changed");
        lock.lock();
      }
    }
  });
}

}  // namespace mnistnet
