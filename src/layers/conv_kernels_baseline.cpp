// The convolution kernels compiled for the build's own flags; conv_kernels.cpp picks them at run
// time. Headers come before the target region so that their inline functions keep the build's
// default instruction set (the linker keeps one copy of each).
#include <algorithm>
#include <cstring>

#include "core/parallel_for.h"
#include "layers/conv_kernels_isa.h"

// Tile sizes are int template parameters used as array bounds; GCC flags each such bound.
#pragma GCC diagnostic ignored "-Wsign-conversion"
// 64-byte vectors passed by value below AVX-512: GCC notes the ABI change. These functions have
// internal linkage and are inlined, so no call crosses an ABI boundary.
#pragma GCC diagnostic ignored "-Wpsabi"

#define MNISTNET_CONV_ISA baseline
namespace mnistnet::conv_kernels::baseline {
namespace {
// Whatever the build flags allow (x86-64 SSE2 in the portable build; -march=native may give more).
#if defined(__AVX512F__)
constexpr int kAccumulatorRegisters = 24, kRegisterFloats = 16;
#elif defined(__AVX__)
constexpr int kAccumulatorRegisters = 12, kRegisterFloats = 8;
#else
constexpr int kAccumulatorRegisters = 12, kRegisterFloats = 4;
#endif
}  // namespace
}  // namespace mnistnet::conv_kernels::baseline

#include "layers/conv_kernels_impl.h"
