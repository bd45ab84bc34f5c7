// Input pipeline: index order (plain, shuffle buffer, passes), batching, caching, and the
// prefetch thread's determinism and shutdown. Small synthetic data keeps this file fast.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <vector>

#include "data/index_stream.h"
#include "data/pipeline.h"
#include "data/prefetch_queue.h"
#include "synthetic_idx.h"

using namespace mnistnet;
using namespace mnistnet::testing;
using Catch::Matchers::Contains;

namespace {

// Checks that a batch holds the examples its indices name; returns the indices.
std::vector<uint32_t> checked_indices(const Batch& b, const Dataset& d, float scale) {
  const int64_t size = d.image_size();
  for (int i = 0; i < b.size; ++i) {
    const uint32_t e = b.indices[i];
    REQUIRE(e < d.count);
    REQUIRE(b.labels[i] == synthetic_label(e));
    for (int64_t j = 0; j < size; ++j) {
      REQUIRE(b.images[i * size + j] == static_cast<float>(synthetic_pixel(e, j)) * scale);
    }
  }
  return std::vector<uint32_t>(b.indices, b.indices + b.size);
}

// The batches' indices, up to max_batches batches (or until the pipeline ends).
std::vector<std::vector<uint32_t>> run(const Dataset& d, const PipelineSpec& spec,
                                       int max_batches = 1000,
                                       std::chrono::microseconds consumer_delay = {}) {
  Pipeline pipe(d, spec);
  std::vector<std::vector<uint32_t>> batches;
  while (static_cast<int>(batches.size()) < max_batches) {
    const auto b = pipe.next();
    if (!b) break;
    batches.push_back(checked_indices(*b, d, spec.pixel_scale));
    if (consumer_delay.count() > 0) std::this_thread::sleep_for(consumer_delay);
  }
  return batches;
}

std::vector<uint32_t> flatten(const std::vector<std::vector<uint32_t>>& batches) {
  std::vector<uint32_t> out;
  for (const auto& b : batches) out.insert(out.end(), b.begin(), b.end());
  return out;
}

std::vector<uint32_t> iota(uint32_t n, uint32_t from = 0) {
  std::vector<uint32_t> v(n);
  std::iota(v.begin(), v.end(), from);
  return v;
}

bool is_permutation_of_all(std::vector<uint32_t> v, uint32_t n) {
  std::sort(v.begin(), v.end());
  return v == iota(n);
}

std::vector<uint32_t> stream(const IndexStreamSpec& spec, size_t n) {
  IndexStream s(spec);
  std::vector<uint32_t> out(n);
  out.resize(s.fill(out));
  return out;
}

}  // namespace

TEST_CASE("pipeline: without shuffle the order is 0..n-1, the last batch short", "[pipeline]") {
  const Dataset d = synthetic_dataset(10, 2, 3);
  PipelineSpec spec;
  spec.batch_size = 3;
  spec.prefetch = GENERATE(0, 2);
  spec.cache = GENERATE(true, false);
  Pipeline pipe(d, spec);
  std::vector<std::vector<uint32_t>> got;
  while (auto b = pipe.next()) got.push_back(checked_indices(*b, d, spec.pixel_scale));
  CHECK(got == std::vector<std::vector<uint32_t>>{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {9}});
  CHECK_FALSE(pipe.next());  // stays exhausted
  CHECK(pipe.example_size() == 6);
}

TEST_CASE("pipeline: drop_remainder drops only the final short batch", "[pipeline]") {
  const Dataset d = synthetic_dataset(10, 2, 2);
  PipelineSpec spec;
  spec.prefetch = GENERATE(0, 1);
  spec.shuffle_buffer = 4;
  spec.drop_remainder = true;
  spec.batch_size = 4;
  const auto dropped = run(d, spec);
  REQUIRE(dropped.size() == 2);
  CHECK(dropped[0].size() == 4);
  CHECK(dropped[1].size() == 4);
  spec.batch_size = 5;  // divides the count: nothing to drop
  CHECK(run(d, spec).size() == 2);
  spec.batch_size = 11;  // larger than the data set: no batch at all
  CHECK(run(d, spec).empty());
  spec.drop_remainder = false;
  const auto kept = run(d, spec);
  REQUIRE(kept.size() == 1);
  CHECK(is_permutation_of_all(kept[0], 10));
}

TEST_CASE("pipeline: repeat runs passes back to back, each a permutation", "[pipeline]") {
  const Dataset d = synthetic_dataset(7, 2, 2);
  PipelineSpec spec;
  spec.prefetch = GENERATE(0, 2);
  spec.shuffle_buffer = GENERATE(0, 3, 100);
  spec.repeat = true;
  spec.batch_size = 3;  // 7 is not a multiple of 3: batches span passes
  spec.drop_remainder = true;
  const auto batches = run(d, spec, 21);
  REQUIRE(batches.size() == 21);  // never ends
  for (const auto& b : batches) CHECK(b.size() == 3);
  const auto all = flatten(batches);  // 63 indices = 9 passes
  for (size_t pass = 0; pass < 9; ++pass) {
    const std::vector<uint32_t> one(all.begin() + static_cast<long>(pass * 7),
                                    all.begin() + static_cast<long>(pass * 7 + 7));
    CHECK(is_permutation_of_all(one, 7));
  }
  if (spec.shuffle_buffer == 0) CHECK(batches[2] == std::vector<uint32_t>{6, 0, 1});
}

TEST_CASE("pipeline: the codelab configuration keeps full batches forever", "[pipeline]") {
  const Dataset d = synthetic_dataset(1000, 1, 2);
  PipelineSpec spec{.cache = true,
                    .shuffle_buffer = 500,
                    .reshuffle_each_iteration = true,
                    .repeat = true,
                    .batch_size = 128,
                    .drop_remainder = true,
                    .prefetch = 2,
                    .seed = 7};
  const auto batches = run(d, spec, 40);  // 5120 examples: 5 passes and a bit
  REQUIRE(batches.size() == 40);
  for (const auto& b : batches) CHECK(b.size() == 128);
  const auto all = flatten(batches);
  for (size_t pass = 0; pass < 5; ++pass) {
    CHECK(is_permutation_of_all({all.begin() + static_cast<long>(pass * 1000),
                                 all.begin() + static_cast<long>(pass * 1000 + 1000)},
                                1000));
  }
}

TEST_CASE("index stream: a buffer of B never emits index i before position i-B+1", "[pipeline]") {
  // Index i >= B enters the buffer after output i-B, so its position is >= max(0, i-B+1);
  // the bound is tight (i = B comes out at position 1 with probability 1/B).
  const int64_t n = 200;
  const int64_t buffer = 8;
  bool bound_attained = false;
  bool beyond_window = false;  // some index leaves more than B positions late
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const auto out = stream({.count = n, .shuffle_buffer = buffer, .seed = seed}, 300);
    REQUIRE(out.size() == static_cast<size_t>(n));
    REQUIRE(is_permutation_of_all(out, static_cast<uint32_t>(n)));
    for (int64_t pos = 0; pos < n; ++pos) {
      const int64_t i = out[static_cast<size_t>(pos)];
      REQUIRE(pos >= std::max<int64_t>(0, i - buffer + 1));
      bound_attained |= i >= buffer && pos == i - buffer + 1;
      beyond_window |= pos > i + buffer;
    }
  }
  CHECK(bound_attained);
  CHECK(beyond_window);  // displacement is bounded only one way
  // B = 1 (and 0) cannot reorder anything.
  CHECK(stream({.count = 50, .shuffle_buffer = 1, .seed = 3}, 50) == iota(50));
  CHECK(stream({.count = 50, .shuffle_buffer = 0, .seed = 3}, 50) == iota(50));
}

TEST_CASE("index stream: first-position distribution is uniform over the buffer", "[pipeline]") {
  // Full buffer (B >= n): any index can come first, each with probability 1/n.
  {
    const int64_t buffer = GENERATE(8, 1000);
    std::vector<int> first(8, 0);
    for (uint64_t seed = 0; seed < 16000; ++seed) {
      first[stream({.count = 8, .shuffle_buffer = buffer, .seed = seed}, 1)[0]]++;
    }
    for (int c : first) CHECK((c > 1700 && c < 2300));  // expected 2000, sd ~42
  }
  // B < n: the first output is uniform over the first B indices and nothing else.
  std::vector<int> first(100, 0);
  for (uint64_t seed = 0; seed < 10000; ++seed) {
    first[stream({.count = 100, .shuffle_buffer = 10, .seed = seed}, 1)[0]]++;
  }
  for (size_t i = 0; i < 10; ++i) CHECK((first[i] > 850 && first[i] < 1150));  // 1000, sd 30
  for (size_t i = 10; i < 100; ++i) CHECK(first[i] == 0);
}

TEST_CASE("index stream: reshuffle_each_iteration gives each pass its own order", "[pipeline]") {
  const auto passes = [](bool reshuffle, int64_t buffer) {
    const auto all = stream({.count = 50,
                             .shuffle_buffer = buffer,
                             .reshuffle_each_iteration = reshuffle,
                             .repeat = true,
                             .seed = 11},
                            150);
    std::vector<std::vector<uint32_t>> out;
    for (long p = 0; p < 3; ++p) out.emplace_back(all.begin() + p * 50, all.begin() + p * 50 + 50);
    return out;
  };
  const int64_t buffer = GENERATE(10, 50);
  const auto fresh = passes(true, buffer);
  CHECK(fresh[0] != fresh[1]);
  CHECK(fresh[1] != fresh[2]);
  CHECK(fresh[0] != fresh[2]);
  const auto same = passes(false, buffer);
  CHECK(same[0] != iota(50));
  CHECK(same[0] == same[1]);
  CHECK(same[1] == same[2]);
  CHECK(same[0] == fresh[0]);  // pass 0 does not depend on the flag
  for (const auto& p : fresh) CHECK(is_permutation_of_all(p, 50));

  // Seeds matter; pass() follows the stream across passes.
  CHECK(stream({.count = 50, .shuffle_buffer = 50, .seed = 1}, 50) !=
        stream({.count = 50, .shuffle_buffer = 50, .seed = 2}, 50));
  IndexStream s({.count = 5, .repeat = true});
  std::vector<uint32_t> out(5);
  s.fill(out);
  CHECK(s.pass() == 0);
  s.fill(std::span(out).first(1));
  CHECK(s.pass() == 1);
}

TEST_CASE("pipeline: cache on and off give identical batches", "[pipeline]") {
  const Dataset d = synthetic_dataset(40, 3, 5);
  PipelineSpec spec;
  spec.shuffle_buffer = 16;
  spec.repeat = true;
  spec.batch_size = 6;
  spec.prefetch = 0;
  spec.pixel_scale = 1.0f / 255.0f;
  spec.seed = 5;
  spec.cache = true;
  Pipeline cached(d, spec);
  spec.cache = false;
  Pipeline direct(d, spec);
  for (int i = 0; i < 20; ++i) {
    const auto a = cached.next();
    const auto b = direct.next();
    REQUIRE((a && b));
    REQUIRE(a->size == b->size);
    CHECK(std::memcmp(a->indices, b->indices, sizeof(uint32_t) * 6) == 0);
    CHECK(std::memcmp(a->labels, b->labels, sizeof(int32_t) * 6) == 0);
    CHECK(std::memcmp(a->images, b->images, sizeof(float) * 6 * 15) == 0);
  }
}

TEST_CASE("pipeline: same seed, same batches, with or without prefetch and delays", "[pipeline]") {
  const Dataset d = synthetic_dataset(300, 2, 2);
  PipelineSpec spec;
  spec.shuffle_buffer = 64;
  spec.repeat = true;
  spec.batch_size = 32;
  spec.seed = 42;
  spec.prefetch = 0;
  const auto reference = run(d, spec, 60);
  REQUIRE(reference.size() == 60);
  CHECK(run(d, spec, 60) == reference);
  spec.prefetch = 3;
  CHECK(run(d, spec, 60) == reference);
  CHECK(run(d, spec, 60) == reference);
  CHECK(run(d, spec, 30, std::chrono::microseconds(500)) ==  // slow consumer: queue stays full
        std::vector<std::vector<uint32_t>>(reference.begin(), reference.begin() + 30));
  spec.prefetch = 1;
  CHECK(run(d, spec, 60) == reference);
  spec.seed = 43;
  CHECK(run(d, spec, 60) != reference);
}

TEST_CASE("pipeline: destroying it mid-stream with a full queue returns promptly", "[pipeline]") {
  const Dataset d = synthetic_dataset(1000, 4, 4);
  PipelineSpec spec;
  spec.shuffle_buffer = 100;
  spec.repeat = true;
  spec.batch_size = 64;
  spec.prefetch = 3;
  const int taken = GENERATE(-1, 0, 3);  // -1: destroyed at once, racing the thread's start
  const auto start = std::chrono::steady_clock::now();
  {
    Pipeline pipe(d, spec);
    for (int i = 0; i < taken; ++i) REQUIRE(pipe.next());
    if (taken >= 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));  // fill up
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
}

TEST_CASE("pipeline: bad spec or inconsistent data is rejected", "[pipeline]") {
  Dataset d = synthetic_dataset(10, 2, 2);
  PipelineSpec spec;
  spec.batch_size = 0;
  CHECK_THROWS_AS(Pipeline(d, spec), std::invalid_argument);
  spec.batch_size = 2;
  spec.prefetch = -1;
  CHECK_THROWS_AS(Pipeline(d, spec), std::invalid_argument);
  spec.prefetch = 0;
  spec.shuffle_buffer = -5;
  CHECK_THROWS_AS(Pipeline(d, spec), std::invalid_argument);
  spec.shuffle_buffer = 0;
  d.labels.pop_back();
  CHECK_THROWS_WITH(Pipeline(d, spec), Contains("9 labels for 10 images of 2x2"));
}

TEST_CASE("pipeline: an empty data set ends at once, even with repeat", "[pipeline]") {
  const Dataset d = synthetic_dataset(0, 2, 2);
  PipelineSpec spec;
  spec.repeat = true;
  spec.shuffle_buffer = 10;
  spec.prefetch = GENERATE(0, 2);
  Pipeline pipe(d, spec);
  CHECK_FALSE(pipe.next());
  CHECK_FALSE(pipe.next());
}

TEST_CASE("prefetch queue: in order, never overwriting the held slot", "[pipeline]") {
  const int slots = GENERATE(2, 4);
  const bool slow_producer = GENERATE(false, true);
  std::vector<std::atomic<int>> buffers(static_cast<size_t>(slots));
  std::atomic<int> made{0};
  {
    PrefetchQueue q(slots, [&](int slot) {
      if (made == 50) return false;
      if (slow_producer) std::this_thread::sleep_for(std::chrono::microseconds(200));
      buffers[static_cast<size_t>(slot)] = made++;
      return true;
    });
    for (int item = 0; item < 50; ++item) {
      const int slot = q.next();
      REQUIRE(slot == item % slots);
      REQUIRE(buffers[static_cast<size_t>(slot)] == item);
      if (!slow_producer && item % 10 == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // producer runs ahead
      }
      REQUIRE(buffers[static_cast<size_t>(slot)] == item);  // still ours
    }
    CHECK(q.next() == -1);
    CHECK(q.next() == -1);
  }
  CHECK_THROWS_AS(PrefetchQueue(1, [](int) { return false; }), std::invalid_argument);
}

TEST_CASE("prefetch queue: a producer exception reaches the consumer after the good items",
          "[pipeline]") {
  int made = 0;  // producer thread only
  PrefetchQueue q(3, [&](int) {
    if (made == 5) throw std::runtime_error("disk on fire");
    ++made;
    return true;
  });
  for (int item = 0; item < 5; ++item) CHECK(q.next() == item % 3);
  CHECK_THROWS_WITH(q.next(), "disk on fire");
  CHECK_THROWS_WITH(q.next(), "disk on fire");
}
