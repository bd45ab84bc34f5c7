#pragma once
// The instruction set the engine's dispatched kernels run (today the convolution kernels,
// src/layers/conv_kernels_*.cpp): the best the CPU has, chosen once per process, so results are
// the same bit for bit run after run on one machine. MNISTNET_ISA=baseline|avx2|avx512 asks for
// a lower level (never a higher one than the CPU runs), to compare the paths.
//
// To dispatch another kernel the same way: put its source in a file included by one .cpp per
// level inside `#pragma GCC target(...)` (see conv_kernels_avx512.cpp) and pick the table with
// engine_isa(). For a plain element-wise loop, MNISTNET_ISA_CLONES below is enough.
#include <string>

#include "core/cpu_info.h"

// Put before a function of plain loops (restrict-qualified pointers, no lambdas: a lambda inside
// does not inherit the target) to have GCC compile it for x86-64, x86-64-v3 (AVX2+FMA) and
// x86-64-v4 (AVX-512); the loader picks one by cpuid, the same one every run on a machine.
// Put its file on CMakeLists.txt's -ffp-contract=off list, so the clones give the same bits.
//   MNISTNET_ISA_CLONES void scale(float* __restrict y, const float* __restrict x, int64_t n);
#define MNISTNET_ISA_CLONES \
  __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))

namespace mnistnet {

Isa engine_isa();

// Three lines for --version and bench: the CPU, the OpenBLAS core in use, the engine's kernels.
//   cpu:     AMD EPYC (AuthenticAMD family 25 model 17)
//   blas:    OpenBLAS 0.3.21 DYNAMIC_ARCH ..., core Zen (OpenBLAS's pick)
//   kernels: avx512 (chosen at run time; portable x86-64 build)
std::string machine_description();

// engine_isa()'s rule, for tests: the CPU's best level, lowered by `requested` when given.
Isa choose_isa(const CpuInfo& cpu, const char* requested);

}  // namespace mnistnet
