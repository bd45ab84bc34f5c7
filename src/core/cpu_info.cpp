#include "core/cpu_info.h"

#include <cpuid.h>

#include <cstdint>
#include <cstring>

namespace mnistnet {
namespace {

struct Regs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};

Regs cpuid(unsigned leaf, unsigned subleaf = 0) {
  Regs r;
  if (!__get_cpuid_count(leaf, subleaf, &r.a, &r.b, &r.c, &r.d)) r = Regs{};
  return r;
}

bool bit(unsigned reg, int n) { return (reg >> n) & 1u; }

// XCR0: which register states the OS saves on a context switch. Only valid with OSXSAVE.
uint64_t xcr0() {
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t{hi} << 32) | lo;
}

std::string trimmed(std::string s) {
  const auto first = s.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(' ') - first + 1);
}

CpuInfo detect() {
  CpuInfo cpu;
  const Regs v = cpuid(0);
  char vendor[13] = {};
  std::memcpy(vendor, &v.b, 4);
  std::memcpy(vendor + 4, &v.d, 4);
  std::memcpy(vendor + 8, &v.c, 4);
  cpu.vendor = vendor;

  const Regs f1 = cpuid(1);
  const int base_family = static_cast<int>((f1.a >> 8) & 0xf);
  const int base_model = static_cast<int>((f1.a >> 4) & 0xf);
  cpu.family =
      base_family == 0xf ? base_family + static_cast<int>((f1.a >> 20) & 0xff) : base_family;
  cpu.model = (base_family == 0x6 || base_family == 0xf)
                  ? base_model + (static_cast<int>((f1.a >> 16) & 0xf) << 4)
                  : base_model;
  cpu.sse42 = bit(f1.c, 20);

  const bool osxsave = bit(f1.c, 27);
  const uint64_t xcr = osxsave ? xcr0() : 0;
  const bool ymm_saved = (xcr & 0x6) == 0x6;    // SSE and AVX state
  const bool zmm_saved = (xcr & 0xe6) == 0xe6;  // plus opmask, ZMM_Hi256, Hi16_ZMM
  const Regs f7 = v.a >= 7 ? cpuid(7) : Regs{};
  cpu.avx = ymm_saved && bit(f1.c, 28);
  cpu.fma = cpu.avx && bit(f1.c, 12);
  cpu.avx2 = cpu.avx && bit(f7.b, 5);
  cpu.avx512f = zmm_saved && bit(f7.b, 16);
  cpu.avx512dq = cpu.avx512f && bit(f7.b, 17);
  cpu.avx512cd = cpu.avx512f && bit(f7.b, 28);
  cpu.avx512bw = cpu.avx512f && bit(f7.b, 30);
  cpu.avx512vl = cpu.avx512f && bit(f7.b, 31);

  if (cpuid(0x80000000).a >= 0x80000004) {
    char brand[49] = {};
    for (unsigned i = 0; i < 3; ++i) {
      const Regs r = cpuid(0x80000002 + i);
      std::memcpy(brand + 16 * i, &r, 16);
    }
    cpu.brand = trimmed(brand);
  }
  return cpu;
}

}  // namespace

const CpuInfo& host_cpu() {
  static const CpuInfo cpu = detect();
  return cpu;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512:
      return "avx512";
    case Isa::avx2:
      return "avx2";
    case Isa::baseline:
      break;
  }
  return "baseline";
}

Isa best_isa(const CpuInfo& cpu) {
  if (cpu.avx512f && cpu.avx512dq && cpu.avx512cd && cpu.avx512bw && cpu.avx512vl && cpu.avx2 &&
      cpu.fma)
    return Isa::avx512;
  if (cpu.avx2 && cpu.fma) return Isa::avx2;
  return Isa::baseline;
}

}  // namespace mnistnet
