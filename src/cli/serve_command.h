#pragma once
// mnistnet serve's options (main.cpp fills them with CLI11).
#include <cstdint>
#include <string>

namespace mnistnet {

struct ServeOptions {
  std::string model;  // empty: the model of the latest run (runs/latest)
  std::string name;   // the model name in URLs; empty: the model's config name
  std::string host = "127.0.0.1";
  int port = 8501;               // 0: any free port (printed)
  int threads = 0;               // threads of the maths; 0 = all cores
  int64_t max_batch = 64;        // examples per forward pass
  int64_t batch_timeout_us = 0;  // 0: take what is queued whenever the model is free
  int connections = 64;          // clients served at once; more wait for a free one
  int64_t max_body_bytes = int64_t{32} << 20;
  int64_t client_timeout_ms = 5000;  // a slow client's read/write deadline
  int64_t watch_ms = 1000;           // how often the model file is checked for a change; 0: never
};
int run_serve(const ServeOptions& options);

}  // namespace mnistnet
