// mnistnet serve: a saved model behind TensorFlow Serving's REST API (src/serve/).
//
// Threads: httplib's pool serves the connections (parsing and answering, one thread each); one
// batcher thread runs every forward pass on the engine's pool; a signal thread waits for
// SIGTERM/SIGINT (stop accepting, finish what is in flight, exit 0) and SIGHUP (reload); the
// model store's watcher reloads when the file changes.
#include "cli/serve_command.h"

#include <httplib.h>
#include <malloc.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "cli/latest_run.h"
#include "core/errors.h"
#include "core/parallel_for.h"
#include "serve/batcher.h"
#include "serve/http_routes.h"
#include "serve/metrics.h"
#include "serve/model_store.h"

namespace mnistnet {
namespace {

// Signals arrive on whatever thread the kernel picks (OpenBLAS starts its own before main), so
// the handler only writes the signal's number to a pipe; the signal thread acts on it.
int g_signal_pipe[2] = {-1, -1};

extern "C" void on_serve_signal(int sig) {
  const auto c = static_cast<char>(sig);
  [[maybe_unused]] const ssize_t n = write(g_signal_pipe[1], &c, 1);
}

void install_signal_handlers() {
  if (pipe(g_signal_pipe) != 0) throw std::runtime_error("serve: cannot create the signal pipe");
  struct sigaction action {};
  action.sa_handler = on_serve_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaction(s, &action, nullptr);
}

}  // namespace

int run_serve(const ServeOptions& options) {
  std::signal(SIGPIPE, SIG_IGN);  // a vanished client is a failed write, not the end
  install_signal_handlers();
  // glibc's defaults suit a batch job, not a server: its mmap threshold grows after the first big
  // free, so request bodies and replaced models then stay in the heap, and every connection
  // thread may get an arena of its own (16 on 2 cores) that keeps its freed memory. Fixed
  // values keep the RSS flat under load and across reloads.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  mallopt(M_ARENA_MAX, 2);
  spdlog::set_default_logger(spdlog::stderr_logger_mt("serve"));  // stdout: the listening line
  spdlog::set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
  if (options.threads > 0) set_parallel_threads(options.threads);

  const auto path = resolve_model_path(options.model);
  ServeMetrics metrics(options.max_batch);
  ModelStore store(path, metrics);
  std::string name = options.name;
  if (name.empty()) name = store.current()->loaded.meta.name;
  if (name.empty()) name = path.stem().string();
  if (name.find_first_of("/:") != std::string::npos) {
    throw UserError("--name " + name + ": a model name cannot hold '/' or ':'");
  }

  DynamicBatcher batcher({options.max_batch, std::chrono::microseconds(options.batch_timeout_us)},
                         metrics);
  httplib::Server server;
  const auto connections = static_cast<size_t>(options.connections);
  server.new_task_queue = [connections] { return new httplib::ThreadPool(connections); };
  server.set_payload_max_length(static_cast<size_t>(options.max_body_bytes));
  const auto timeout = std::chrono::milliseconds(options.client_timeout_ms);
  server.set_read_timeout(timeout);
  server.set_write_timeout(timeout);
  server.set_keep_alive_timeout(std::max<time_t>(1, options.client_timeout_ms / 1000));
  server.set_keep_alive_max_count(1000000);
  ServeContext context{name, store, batcher, metrics};
  install_routes(server, context);

  int port = options.port;
  if (port == 0) {
    port = server.bind_to_any_port(options.host);
    if (port < 0) throw UserError("--host " + options.host + ": cannot listen on any port");
  } else if (!server.bind_to_port(options.host, port)) {
    throw UserError("--host " + options.host + " --port " + std::to_string(port) +
                    ": cannot listen there (in use, or not this machine's address)");
  }
  if (options.watch_ms > 0) store.watch(std::chrono::milliseconds(options.watch_ms));

  std::atomic<bool> listen_done{false};
  std::thread signal_thread([&] {
    for (;;) {
      char c = 0;
      const ssize_t n = read(g_signal_pipe[0], &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || c == 0) return;  // main is done
      if (c == SIGHUP) {
        store.reload("SIGHUP");
        continue;
      }
      spdlog::info("signal {}: finishing the requests in flight", static_cast<int>(c));
      // httplib's stop() does nothing before listening has begun (a signal during start-up).
      while (!server.is_running() && !listen_done.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      server.stop();
      return;
    }
  });
  const auto served = store.current();
  std::printf("mnistnet serve: model %s version %lld (%s) on http://%s:%d/v1/models/%s\n",
              name.c_str(), static_cast<long long>(served->version), path.string().c_str(),
              options.host.c_str(), port, name.c_str());
  std::fflush(stdout);
  server.listen_after_bind();  // returns after stop(), once every connection's thread is done
  listen_done = true;
  const char done = 0;  // ends the signal thread if no signal did
  [[maybe_unused]] const ssize_t n = write(g_signal_pipe[1], &done, 1);
  signal_thread.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace mnistnet
