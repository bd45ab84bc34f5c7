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
