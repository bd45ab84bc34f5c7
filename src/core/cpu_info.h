#pragma once
// What the processor can run, from cpuid and the OS's saved register state (xgetbv), and the
// instruction-set levels the engine's kernels are built for. Plain data, so the decisions made
// from it (cpu_blas_core.h, the kernel dispatch) are unit-tested with made-up CPUs.
#include <string>

namespace mnistnet {

struct CpuInfo {
  std::string vendor;  // "GenuineIntel", "AuthenticAMD", "HygonGenuine", ...
  std::string brand;   // "Intel(R) Xeon(R) Platinum 8488C", "AMD EPYC", ...
  int family = 0;      // display family and model (base + extended), as lscpu shows them
  int model = 0;
  bool sse42 = false;
  // Usable: the CPU has it and the OS saves the registers it needs (ymm for AVX/AVX2/FMA,
  // zmm and opmasks for AVX-512).
  bool avx = false, avx2 = false, fma = false;
  bool avx512f = false, avx512dq = false, avx512cd = false, avx512bw = false, avx512vl = false;
};

// The machine this runs on (cpuid once, cached).
const CpuInfo& host_cpu();

// Instruction-set levels of the engine's dispatched kernels, lowest first.
enum class Isa { baseline, avx2, avx512 };

// "baseline" (x86-64 SSE2), "avx2" (AVX2+FMA) or "avx512" (AVX-512 F/DQ/CD/BW/VL).
const char* isa_name(Isa isa);
// The highest level the CPU can run.
Isa best_isa(const CpuInfo& cpu);

}  // namespace mnistnet
