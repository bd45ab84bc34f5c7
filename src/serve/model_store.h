#pragma once
// The model being served, and replacing it: SIGHUP or a changed model file loads the file again;
// requests in flight keep the model they started on (a shared_ptr each), and a file that does
// not load leaves the old model serving, the reason in the log.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "model/model_file.h"
#include "serve/request_parser.h"

namespace mnistnet {

class ServeMetrics;

// One loaded version. Its Model is not thread-safe: only the batcher's thread runs it.
struct ServedModel {
  LoadedModel loaded;
  InputSignature signature;
  int64_t version = 1;  // 1 at start, +1 per successful reload (TensorFlow Serving's versions)
  float scale = 1.0f;   // 1 / pixel_divisor: pixels 0..255 -> what the model trained on
};

class ModelStore {
 public:
  // Loads the file; throws ModelFileError (a UserError) when it does not load.
  ModelStore(std::filesystem::path path, ServeMetrics& metrics);
  ~ModelStore();  // stops the watcher
  ModelStore(const ModelStore&) = delete;
  ModelStore& operator=(const ModelStore&) = delete;

  std::shared_ptr<ServedModel> current() const;

  // Loads the file again and serves it; false (and the old model serving) when it fails.
  bool reload(const std::string& why);

  // Checks the file every `interval` and reloads when its size, mtime or inode changed.
  void watch(std::chrono::milliseconds interval);

 private:
  struct FileStamp {
    int64_t size = -1, mtime_ns = 0;
    uint64_t inode = 0;
    bool operator==(const FileStamp&) const = default;
  };
  FileStamp stamp() const;
  std::shared_ptr<ServedModel> load(int64_t version) const;

  std::filesystem::path path_;
  ServeMetrics& metrics_;
  mutable std::mutex mutex_;  // guards current_ and stamp_
  std::shared_ptr<ServedModel> current_;
  FileStamp stamp_;
  std::mutex reload_mutex_;  // one reload at a time (SIGHUP and the watcher)

  std::mutex watch_mutex_;
  std::condition_variable watch_cv_;
  bool stopping_ = false;
  std::thread watcher_;
};

}  // namespace mnistnet
