#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "core/parallel_for.h"

using namespace mnistnet;

TEST_CASE("parallel_for covers every index exactly once", "[parallel]") {
  for (int64_t n : {0, 1, 2, 3, 7, 1000, 12345}) {
    std::vector<int> hits(static_cast<size_t>(n), 0);
    parallel_for(n, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) ++hits[static_cast<size_t>(i)];
    });
    for (int h : hits) REQUIRE(h == 1);
  }
}

TEST_CASE("parallel_for runs small loops on the caller and survives many calls", "[parallel]") {
  std::atomic<int> calls{0};
  parallel_for(
      10, [&](int64_t, int64_t) { ++calls; }, 100);
  CHECK(calls == 1);
  int64_t total = 0;
  for (int round = 0; round < 2000; ++round) {
    std::vector<int64_t> partial(2, 0);
    parallel_for(100,
                 [&](int64_t begin, int64_t end) { partial[begin == 0 ? 0 : 1] += end - begin; });
    total += partial[0] + partial[1];
  }
  CHECK(total == 2000 * 100);
  CHECK(parallel_threads() >= 1);
}

TEST_CASE("parallel_for wakes workers that went to sleep, at any gap between calls", "[parallel]") {
  // Workers spin a while after a call, then sleep; a call can land while one decides to sleep.
  // Gaps around the spin time exercise that hand-over: a lost wake-up would hang here.
  int64_t total = 0;
  for (int round = 0; round < 300; ++round) {
    std::this_thread::sleep_for(std::chrono::microseconds(round % 3 == 0 ? 0 : 200 + 3 * round));
    std::atomic<int64_t> covered{0};
    parallel_for(64, [&](int64_t begin, int64_t end) { covered += end - begin; });
    total += covered;
  }
  CHECK(total == 300 * 64);
}

TEST_CASE("parallel_for's shares are fixed by n and the thread count, whoever runs them",
          "[parallel]") {
  const auto threads = static_cast<int64_t>(parallel_threads());
  for (int round = 0; round < 200; ++round) {
    // hits[s] counts calls whose range was exactly share s: [n*s/T, n*(s+1)/T).
    std::vector<std::atomic<int>> hits(static_cast<size_t>(threads));
    std::atomic<int> other{0};
    parallel_for(1001, [&](int64_t begin, int64_t end) {
      for (int64_t s = 0; s < threads; ++s) {
        if (begin == 1001 * s / threads && end == 1001 * (s + 1) / threads) {
          ++hits[static_cast<size_t>(s)];
          return;
        }
      }
      ++other;
    });
    REQUIRE(other == 0);
    for (const auto& h : hits) REQUIRE(h == 1);
  }
}

TEST_CASE("parallel_for_work keeps little work on the caller", "[parallel]") {
  const auto caller = std::this_thread::get_id();
  std::atomic<int> calls{0}, elsewhere{0};
  parallel_for_work(100, kMinWorkPerShare / 100, [&](int64_t begin, int64_t end) {
    if (std::this_thread::get_id() != caller || begin != 0 || end != 100) ++elsewhere;
    ++calls;
  });
  CHECK(calls == 1);
  CHECK(elsewhere == 0);
  std::atomic<int64_t> covered{0};
  parallel_for_work(100, kMinWorkPerShare,
                    [&](int64_t begin, int64_t end) { covered += end - begin; });
  CHECK(covered == 100);
}
