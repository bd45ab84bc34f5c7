#pragma once
// Writes a whole file so that readers see the old contents or the new, never a torn mix:
// write a temporary file beside it, fsync, rename over the target.
#include <filesystem>
#include <string_view>

namespace mnistnet {

// Throws UserError naming the path and the system's reason (disk full, read-only ...).
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace mnistnet
