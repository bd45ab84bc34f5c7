#pragma once
// Counts every operator new in the test binary (all threads), so a test can require that a
// stretch of code allocates nothing. The replacement operators live in allocation_counter.cpp.
#include <cstdint>

namespace mnistnet::testing {

uint64_t allocation_count();

}  // namespace mnistnet::testing
