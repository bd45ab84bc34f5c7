#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/errors.h"

namespace mnistnet {

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  // The pid keeps two processes writing the same file from sharing a temporary file.
  const std::string target = path.string();
  const std::string tmp = target + ".tmp." + std::to_string(::getpid());
  // "cannot write runs/x/metrics.csv.tmp.42: No space left on device (runs/x/metrics.csv is
  // unchanged)": the system's reason, the file it failed on, and that the old file is intact.
  auto fail = [&](const char* what, const std::string& file, int err) {
    ::unlink(tmp.c_str());
    throw UserError(std::string("cannot ") + what + " " + file + ": " + std::strerror(err) + " (" +
                    target + " is unchanged)");
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("create", tmp, errno);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;  // a regular file takes no bytes only when full
      ::close(fd);
      fail("write", tmp, err);
    }
    done += static_cast<size_t>(n);
  }
  // Delayed allocation can report a full disk only here.
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    fail("write", tmp, err);
  }
  if (::close(fd) != 0) fail("write", tmp, errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("rename over", target, errno);
  // Make the rename itself durable; a file system that cannot sync a directory still renamed.
  const std::filesystem::path parent = path.parent_path().empty() ? "." : path.parent_path();
  const int dir = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
}

}  // namespace mnistnet
