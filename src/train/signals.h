#pragma once
// Ctrl-C and SIGTERM while training: the first one asks the training loop to stop after the
// current step (it writes a checkpoint and says how to resume); a second one ends the process
// at once with 128 + signal. Everything mnistnet writes is written atomically, so ending at
// any moment leaves every file either complete or as it was.
//
//   InterruptHandler interrupts;            // installs the handlers; the destructor restores them
//   fit(..., {.stop_request = &interrupts.requested()});
//
// The handlers need one process-wide flag (a signal handler can reach nothing else); it is a
// lock-free atomic, so the training loop's check is a single load.
#include <atomic>

namespace mnistnet {

class InterruptHandler {
 public:
  InterruptHandler();   // installs handlers for SIGINT and SIGTERM, clears the flag
  ~InterruptHandler();  // puts the previous handlers back
  InterruptHandler(const InterruptHandler&) = delete;
  InterruptHandler& operator=(const InterruptHandler&) = delete;

  // 0 until the first SIGINT or SIGTERM, then that signal's number.
  const std::atomic<int>& requested() const;
};

// "SIGINT", "SIGTERM", or "signal N".
const char* signal_name(int signal);

}  // namespace mnistnet
