#pragma once
// Writes a small text file for a test and returns its path as a string.
#include <filesystem>
#include <fstream>
#include <string>

namespace mnistnet::testing {

inline std::string write_text(const std::filesystem::path& dir, const std::string& name,
                              const std::string& text) {
  const auto path = dir / name;
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

}  // namespace mnistnet::testing
