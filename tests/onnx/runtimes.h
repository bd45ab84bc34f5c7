#pragma once
// The two ONNX runtimes the export tests check against, neither written here: ONNX Runtime
// (npm onnxruntime-node, installed by scripts/test.sh into ~/.cache/mnistnet-ort or
// $MNISTNET_ORT_DIR) and OpenCV's dnn module (Debian's python3-opencv, for /usr/bin/python3).
// Each runs a list of jobs in one process: tests/onnx/run_ort.js and run_opencv.py.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../cli_runner.h"

namespace mnistnet::testing {

struct OnnxJob {
  std::filesystem::path model, input;  // input: raw float32 in the ONNX input's layout
  std::vector<int64_t> shape;          // the ONNX input's dims, batch first
  std::filesystem::path output;        // written by the runtime: raw float32
};

struct OnnxRuntime {
  std::string name;
  std::string missing;  // why it cannot run here; empty when it can
  std::string command;  // the shell command before the jobs file
};

inline std::filesystem::path onnx_scripts() {
  return std::filesystem::path(MNISTNET_SOURCE_DIR) / "tests" / "onnx";
}

inline bool shell_ok(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

inline OnnxRuntime onnx_runtime_ort() {
  OnnxRuntime r{"onnxruntime", "", ""};
  const char* dir = std::getenv("MNISTNET_ORT_DIR");
  const char* home = std::getenv("HOME");
  const std::filesystem::path cache =
      dir != nullptr ? std::filesystem::path(dir)
                     : std::filesystem::path(home != nullptr ? home : "") / ".cache/mnistnet-ort";
  const auto modules = cache / "node_modules";
  if (!shell_ok("command -v node")) {
    r.missing = "no node on PATH (scripts/test.sh installs nodejs)";
  } else if (!std::filesystem::exists(modules / "onnxruntime-node" / "package.json")) {
    r.missing = "no onnxruntime-node in " + modules.string() + " (scripts/test.sh installs it)";
  }
  r.command = "NODE_PATH='" + modules.string() + "' node '" +
              (onnx_scripts() / "run_ort.js").string() + "'";
  return r;
}

inline OnnxRuntime onnx_runtime_opencv() {
  OnnxRuntime r{"opencv", "", ""};
  if (!shell_ok("/usr/bin/python3 -c 'import cv2, numpy'"))
    r.missing = "no cv2 for /usr/bin/python3 (scripts/test.sh installs python3-opencv)";
  r.command = "/usr/bin/python3 '" + (onnx_scripts() / "run_opencv.py").string() + "'";
  return r;
}

// Runs every job; returns the runtime's stdout (its version line) or throws with its stderr.
inline std::string run_onnx_jobs(const OnnxRuntime& runtime, const std::vector<OnnxJob>& jobs,
                                 const std::filesystem::path& scratch) {
  nlohmann::json list = nlohmann::json::array();
  for (const OnnxJob& j : jobs) {
    list.push_back({{"model", j.model.string()},
                    {"input", j.input.string()},
                    {"shape", j.shape},
                    {"output", j.output.string()}});
  }
  const auto file = scratch / (runtime.name + "-jobs.json");
  std::ofstream(file) << list.dump();
  const auto out = scratch / (runtime.name + ".out"), err = scratch / (runtime.name + ".err");
  const std::string command =
      runtime.command + " '" + file.string() + "' >'" + out.string() + "' 2>'" + err.string() + "'";
  if (std::system(command.c_str()) != 0)
    throw std::runtime_error(runtime.name + " failed: " + slurp(err));
  return slurp(out);
}

inline void write_floats(const std::filesystem::path& path, const std::vector<float>& v) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
}

inline std::vector<float> read_floats(const std::filesystem::path& path) {
  const std::string bytes = slurp(path);
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

}  // namespace mnistnet::testing
