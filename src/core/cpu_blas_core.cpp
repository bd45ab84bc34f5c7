#include "core/cpu_blas_core.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/blas.h"

namespace mnistnet {
namespace {

// Set by select_blas_kernels() before its re-exec: the core OpenBLAS picked itself, prefixed
// with '!' once our choice was found wrong (so it is never tried again in that process tree).
constexpr const char* kPickedVariable = "MNISTNET_OPENBLAS_PICKED";

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Instruction-set level of an OpenBLAS x86-64 core: 0 SSE*, 1 SSE4.2, 2 AVX, 3 AVX2, 4 AVX-512.
int core_level(std::string_view corename) {
  const std::string c = lower(corename);
  if (c == "skylakex" || c == "cooperlake" || c == "sapphirerapids") return 4;
  if (c == "haswell" || c == "zen" || c == "excavator") return 3;
  if (c == "sandybridge" || c == "bulldozer" || c == "piledriver" || c == "steamroller") return 2;
  if (c == "nehalem") return 1;
  return 0;
}

bool amd_like(const CpuInfo& cpu) {
  return cpu.vendor == "AuthenticAMD" || cpu.vendor == "HygonGenuine";
}

// The SGEMM check of a freshly selected core: OpenBLAS against a naive product, both layouts
// the engine uses, sizes that leave edge tiles.
bool sgemm_is_right() {
  constexpr size_t m = 37, n = 45, k = 29;
  std::vector<float> a(m * k), b(k * n), c(m * n, 0.0f);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i % 7) * 0.25f - 0.5f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i % 11) * 0.125f - 0.5f;
  for (Trans ta : {Trans::no, Trans::yes}) {
    // op(A) is [m, k] either way: stored as [m, k] or as its transpose [k, m].
    const size_t lda = ta == Trans::no ? k : m;
    gemm(ta, Trans::no, m, n, k, 1.0f, a.data(), static_cast<int64_t>(lda), b.data(), n, 0.0f,
         c.data(), n);
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < n; ++j) {
        double sum = 0, magnitude = 0;
        for (size_t p = 0; p < k; ++p) {
          const double x = ta == Trans::no ? a[i * k + p] : a[p * m + i];
          sum += x * b[p * n + j];
          magnitude += std::fabs(x * b[p * n + j]);
        }
        if (!(std::fabs(c[i * n + j] - sum) <= 1e-5 * magnitude + 1e-6)) return false;
      }
  }
  return true;
}

[[noreturn]] void reexec(char** argv) {
  std::fflush(nullptr);
  execv("/proc/self/exe", argv);
  std::fprintf(stderr, "mnistnet: cannot re-execute itself to select OpenBLAS kernels\n");
  std::_Exit(1);
}

}  // namespace

std::string best_openblas_core(const CpuInfo& cpu) {
  if (best_isa(cpu) == Isa::avx512) {
    // Zen 4 and Zen 5 too: OpenBLAS 0.3.21 picks Cooperlake on them itself, and its Zen (AVX2)
    // kernels reach half the SGEMM rate of the AVX-512 ones there (225 against 400 GFLOP/s on
    // a 2-core EPYC family 26).
    return "SkylakeX";
  }
  if (amd_like(cpu)) {
    if (cpu.avx2 && cpu.fma) return cpu.family >= 0x17 ? "Zen" : "Excavator";
    if (cpu.avx) return "Bulldozer";
    return "";
  }
  if (cpu.avx2 && cpu.fma) return "Haswell";
  if (cpu.avx) return "Sandybridge";
  if (cpu.sse42) return "Nehalem";
  return "";
}

std::string wanted_openblas_core(const CpuInfo& cpu, std::string_view corename) {
  std::string want = best_openblas_core(cpu);
  if (want.empty() || core_level(corename) >= core_level(want)) return "";
  return want;
}

BlasCoreAction blas_core_action(const CpuInfo& cpu, std::string_view corename,
                                const char* user_coretype, const char* picked) {
  if (picked != nullptr && user_coretype != nullptr) {
    // Our own re-exec: check the new core once (unless it was already found wrong).
    return picked[0] == '!' ? BlasCoreAction{} : BlasCoreAction{BlasCoreAction::verify, ""};
  }
  if (user_coretype != nullptr) return {};  // the user's choice, always
  std::string want = wanted_openblas_core(cpu, corename);
  if (want.empty()) return {};
  return {BlasCoreAction::switch_core, std::move(want)};
}

void select_blas_kernels(char** argv) {
  // MNISTNET_TEST_OPENBLAS_PICK stands in for OpenBLAS's pick, so that the test suite can walk
  // the re-exec path on a CPU where OpenBLAS chooses right.
  const char* fake_pick = std::getenv("MNISTNET_TEST_OPENBLAS_PICK");
  const std::string corename = fake_pick != nullptr ? fake_pick : blas_core_name();
  const char* user = std::getenv("OPENBLAS_CORETYPE");
  const char* picked = std::getenv(kPickedVariable);
  const BlasCoreAction action = blas_core_action(host_cpu(), corename, user, picked);
  if (action.kind == BlasCoreAction::switch_core) {
    setenv(kPickedVariable, corename.c_str(), 1);
    setenv("OPENBLAS_CORETYPE", action.core.c_str(), 1);
    reexec(argv);
  }
  if (action.kind == BlasCoreAction::verify && !sgemm_is_right()) {
    std::fprintf(stderr,
                 "mnistnet: OpenBLAS's %s kernels computed a wrong SGEMM on this CPU; "
                 "using its own pick %s\n",
                 corename.c_str(), picked);
    const std::string rejected = std::string("!") + picked;
    setenv("OPENBLAS_CORETYPE", picked, 1);
    setenv(kPickedVariable, rejected.c_str(), 1);
    reexec(argv);
  }
}

std::string blas_core_description() {
  const std::string core = blas_core_name();
  const char* user = std::getenv("OPENBLAS_CORETYPE");
  const char* picked = std::getenv(kPickedVariable);
  if (user == nullptr) return core + " (OpenBLAS's pick)";
  if (picked == nullptr) {
    // The user's choice stands; say when it leaves speed on the table.
    const std::string better = wanted_openblas_core(host_cpu(), core);
    if (better.empty()) return core + " (OPENBLAS_CORETYPE)";
    return core + " (OPENBLAS_CORETYPE; this CPU runs " + better +
           " kernels: unset OPENBLAS_CORETYPE for full speed)";
  }
  if (picked[0] == '!')
    return core + " (OpenBLAS's pick; mnistnet's choice computed wrong results)";
  return core + " (set by mnistnet; OpenBLAS picked " + picked + ")";
}

std::string cpu_description(const CpuInfo& cpu) {
  return (cpu.brand.empty() ? std::string("unknown model") : cpu.brand) + " (" + cpu.vendor +
         " family " + std::to_string(cpu.family) + " model " + std::to_string(cpu.model) + ")";
}

}  // namespace mnistnet
