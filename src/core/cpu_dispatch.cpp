#include "core/cpu_dispatch.h"

#include <cstdlib>
#include <string_view>

#include "core/blas.h"
#include "core/cpu_blas_core.h"

namespace mnistnet {

Isa choose_isa(const CpuInfo& cpu, const char* requested) {
  const Isa best = best_isa(cpu);
  if (requested == nullptr) return best;
  const std::string_view r = requested;
  Isa want = best;
  if (r == "baseline") want = Isa::baseline;
  if (r == "avx2") want = Isa::avx2;
  return want < best ? want : best;
}

Isa engine_isa() {
  static const Isa isa = choose_isa(host_cpu(), std::getenv("MNISTNET_ISA"));
  return isa;
}

std::string machine_description() {
  // The rest of the engine is compiled for the build's flags: beyond SSE2 means -march=native.
#if defined(__AVX__)
  const char* build = "-march=native build";
#else
  const char* build = "portable x86-64 build";
#endif
  return "cpu:     " + cpu_description(host_cpu()) + "\nblas:    " + blas_config() + ", core " +
         blas_core_description() + "\nkernels: " + isa_name(engine_isa()) +
         " (chosen at run time; " + build + ")";
}

}  // namespace mnistnet
