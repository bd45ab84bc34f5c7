// The convolution kernels compiled for AVX2 and FMA; conv_kernels.cpp picks them at run time.
// Headers come before the target region so that their inline functions keep the build's
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
#pragma GCC push_options
#pragma GCC target("avx2,fma")

#define MNISTNET_CONV_ISA avx2
namespace mnistnet::conv_kernels::avx2 {
namespace {
// 16 ymm registers: 12 hold accumulators.
constexpr int kAccumulatorRegisters = 12, kRegisterFloats = 8;
}  // namespace
}  // namespace mnistnet::conv_kernels::avx2

#include "layers/conv_kernels_impl.h"

#pragma GCC pop_options
