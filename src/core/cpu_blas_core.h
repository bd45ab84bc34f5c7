#pragma once
// Makes OpenBLAS run the kernels that fit the CPU. Debian's OpenBLAS (DYNAMIC_ARCH) picks its
// kernels from cpuid when it loads, and falls back to its slowest ones ("Prescott", SSE3) on
// CPUs newer than its tables; it honours OPENBLAS_CORETYPE, but reads it only at load time,
// before main(). So select_blas_kernels() compares OpenBLAS's pick with what cpuid says, and
// when OpenBLAS fell back it sets OPENBLAS_CORETYPE and re-executes the program once
// (/proc/self/exe, same argv); the new process checks a small SGEMM against a naive product
// and goes back to OpenBLAS's own pick (one more exec) if the result is wrong.
//
// Why re-exec rather than dlopen()ing OpenBLAS after setenv(): the binary keeps linking
// OpenBLAS the normal way (the package's dependencies come from the ELF, sanitizers and tests
// see one library), and the cost is one exec of a few milliseconds, only on CPUs that need it.
#include <string>
#include <string_view>

#include "core/cpu_info.h"

namespace mnistnet {

// The OpenBLAS core type (an OPENBLAS_CORETYPE value) whose kernels fit `cpu` best:
// AVX-512 (Intel or AMD) -> SkylakeX; else AMD/Hygon with AVX2 -> Zen (family >= 0x17) or
// Excavator; Intel/other AVX2+FMA -> Haswell, AVX -> Sandybridge, SSE4.2 -> Nehalem; "" below.
std::string best_openblas_core(const CpuInfo& cpu);

// best_openblas_core(cpu) when OpenBLAS's pick `corename` is a fallback to an older
// instruction set; "" when the pick is as good.
std::string wanted_openblas_core(const CpuInfo& cpu, std::string_view corename);

// What to do at start-up, from the environment and OpenBLAS's pick (pure; tested).
struct BlasCoreAction {
  enum Kind { keep, switch_core, verify } kind = keep;
  std::string core;  // switch_core: the OPENBLAS_CORETYPE to exec with
};
// user_coretype: OPENBLAS_CORETYPE or nullptr; picked: MNISTNET_OPENBLAS_PICKED (set by us
// before the re-exec) or nullptr. A user's OPENBLAS_CORETYPE is always respected.
BlasCoreAction blas_core_action(const CpuInfo& cpu, std::string_view corename,
                                const char* user_coretype, const char* picked);

// Call first in main(): may re-execute the program (and then does not return).
void select_blas_kernels(char** argv);

// One line for --version and bench: "Zen (OpenBLAS's pick)",
// "SkylakeX (set by mnistnet; OpenBLAS picked Prescott)", "Haswell (OPENBLAS_CORETYPE)", and
// when the user's OPENBLAS_CORETYPE is below what the CPU runs, a hint to unset it.
std::string blas_core_description();

// "AMD EPYC (AuthenticAMD family 25 model 17)".
std::string cpu_description(const CpuInfo& cpu);

}  // namespace mnistnet
