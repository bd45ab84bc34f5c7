#include "train/signals.h"

#include <signal.h>
#include <unistd.h>

namespace mnistnet {
namespace {

std::atomic<int> g_requested{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free flag");

struct sigaction g_previous_int, g_previous_term;

extern "C" void on_interrupt(int signal) {
  int expected = 0;
  if (!g_requested.compare_exchange_strong(expected, signal))
    ::_exit(128 + signal);  // the second one
}

}  // namespace

InterruptHandler::InterruptHandler() {
  g_requested.store(0);
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // blocking reads and writes carry on after the first signal
  sigaction(SIGINT, &action, &g_previous_int);
  sigaction(SIGTERM, &action, &g_previous_term);
}

InterruptHandler::~InterruptHandler() {
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
}

const std::atomic<int>& InterruptHandler::requested() const { return g_requested; }

const char* signal_name(int signal) {
  if (signal == SIGINT) return "SIGINT";
  if (signal == SIGTERM) return "SIGTERM";
  return "a signal";
}

}  // namespace mnistnet
