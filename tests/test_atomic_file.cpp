// Atomic writes when the disk is full or the directory read-only: one clear UserError naming the
// file and the system's reason, the previous file intact, no temporary file left behind.
// Read-only uses chmod, or (as root, where chmod does not stop writes) a read-only tmpfs mount;
// disk full uses a 64 KiB tmpfs mount. Each is skipped with a message when the machine cannot
// provide it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "cli_runner.h"
#include "core/atomic_file.h"
#include "core/errors.h"
#include "synthetic_idx.h"

using namespace mnistnet;
using namespace mnistnet::testing;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// A tmpfs mounted on `dir` for the scope (needs root and permission to mount).
struct TmpfsMount {
  fs::path dir;
  bool mounted = false;
  TmpfsMount(fs::path where, const std::string& options) : dir(std::move(where)) {
    if (::geteuid() != 0) return;
    const std::string command =
        "mount -t tmpfs -o " + options + " mnistnet-test '" + dir.string() + "' 2>/dev/null";
    mounted = std::system(command.c_str()) == 0;
  }
  bool remount(const std::string& options) const {
    const std::string command =
        "mount -o remount," + options + " '" + dir.string() + "' 2>/dev/null";
    return std::system(command.c_str()) == 0;
  }
  ~TmpfsMount() {
    if (mounted) (void)std::system(("umount '" + dir.string() + "' 2>/dev/null").c_str());
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
};

std::string write_error(const fs::path& path, const std::string& bytes) {
  try {
    write_file_atomically(path, bytes);
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no error)";
}

bool only_file_is(const fs::path& dir, const std::string& name) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    ++count;
    if (entry.path().filename() != name) return false;
  }
  return count == 1;
}

// Can a file be created in dir? (false once dir is really read-only)
bool can_create_in(const fs::path& dir) {
  const fs::path probe = dir / "probe";
  const bool ok = ::close(::open(probe.c_str(), O_WRONLY | O_CREAT, 0644)) == 0;
  ::unlink(probe.c_str());
  return ok;
}

}  // namespace

TEST_CASE("write_file_atomically replaces the file and leaves no temporary file", "[atomic_file]") {
  TempDir dir;
  write_file_atomically(dir.path / "a.txt", "old");
  write_file_atomically(dir.path / "a.txt", "new contents");
  CHECK(slurp(dir.path / "a.txt") == "new contents");
  CHECK(only_file_is(dir.path, "a.txt"));
}

TEST_CASE("A full disk is an error naming the file and ENOSPC, and the old file stays",
          "[atomic_file]") {
  TempDir dir;
  TmpfsMount disk(dir.path, "size=64k");
  if (!disk.mounted) {
    WARN("skipped: cannot mount a 64 KiB tmpfs to fill (needs root and mount permission)");
    return;
  }
  const fs::path file = disk.dir / "metrics.csv";
  write_file_atomically(file, "epoch,loss\n0,1.5\n");
  const std::string message = write_error(file, std::string(1 << 20, 'x'));
  CHECK_THAT(message,
             Contains("cannot write " + file.string() + ".tmp.") &&
                 Contains(": No space left on device (" + file.string() + " is unchanged)"));
  CHECK(slurp(file) == "epoch,loss\n0,1.5\n");
  CHECK(only_file_is(disk.dir, "metrics.csv"));
}

TEST_CASE(
    "A read-only directory is an error naming the file and EACCES/EROFS, and the old file stays",
    "[atomic_file]") {
  TempDir dir;
  const fs::path file = dir.path / "model.mnn";
  write_file_atomically(file, "previous model");
  ::chmod(dir.path.c_str(), 0555);
  std::unique_ptr<TmpfsMount> mount;
  fs::path target = file;
  if (can_create_in(dir.path)) {  // root ignores the mode: use a tmpfs remounted read-only
    ::chmod(dir.path.c_str(), 0755);
    fs::create_directories(dir.path / "ro");
    mount = std::make_unique<TmpfsMount>(dir.path / "ro", "size=64k");
    if (!mount->mounted) {
      WARN(
          "skipped: running as root, so chmod does not make a directory read-only, and no tmpfs "
          "could be mounted");
      return;
    }
    target = mount->dir / "model.mnn";
    write_file_atomically(target, "previous model");
    REQUIRE(mount->remount("ro"));
  }
  const std::string message = write_error(target, "new model");
  CHECK_THAT(message,
             Contains("cannot create " + target.string() + ".tmp.") && Contains(" is unchanged)"));
  CHECK((message.find("Permission denied") != std::string::npos ||
         message.find("Read-only file system") != std::string::npos));
  CHECK(slurp(target) == "previous model");
  CHECK(only_file_is(target.parent_path(), "model.mnn"));
  ::chmod(dir.path.c_str(), 0755);
}

TEST_CASE("train into a full disk exits 2 with one line naming the file and the reason",
          "[atomic_file][cli]") {
  TempDir dir;
  write_synthetic_dataset(dir.path / "data", 40, 20, true, 8, 8);
  const fs::path runs = dir.path / "runs";
  fs::create_directories(runs);
  TmpfsMount disk(runs, "size=8k");
  if (!disk.mounted) {
    WARN("skipped: cannot mount a tmpfs to fill (needs root and mount permission)");
    return;
  }
  // A model too large for the 8 KiB disk: its file is the write that fails.
  const std::string config = R"({"model": {"input_shape": [8, 8], "layers": [{"type": "Flatten"},
    {"type": "Dense", "units": 64}, {"type": "Dense", "units": 10, "activation": "softmax"}]},
    "training": {"epochs": 1, "batch_size": 20}, "output": {"progress": "none"}})";
  write_bytes(dir.path / "c.json", {config.begin(), config.end()}, false);
  const CliResult r =
      run_cli("train -q -c '" + (dir.path / "c.json").string() + "' --data '" +
                  (dir.path / "data").string() + "' --run-dir '" + (runs / "r").string() + "'",
              dir.path);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("mnistnet: error: cannot ") && Contains("No space left on device"));
}
