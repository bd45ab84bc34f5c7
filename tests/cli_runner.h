#pragma once
// Runs the real mnistnet executable for end-to-end tests and captures its output.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace mnistnet::testing {

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// `args` is appended to the binary's path as shell words; scratch holds the captured streams.
// With `cwd`, the command runs in that directory.
inline CliResult run_cli(const std::string& args, const std::filesystem::path& scratch,
                         const std::filesystem::path& cwd = {}) {
  const auto out = scratch / "stdout.txt", err = scratch / "stderr.txt";
  const std::string cd = cwd.empty() ? "" : "cd '" + cwd.string() + "' && ";
  const std::string command = cd + "'" + MNISTNET_BINARY + "' " + args + " >'" + out.string() +
                              "' 2>'" + err.string() + "' </dev/null";
  const int status = std::system(command.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

}  // namespace mnistnet::testing
