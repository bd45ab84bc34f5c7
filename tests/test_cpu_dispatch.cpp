// CPU detection decisions (with made-up CPUs: only one real CPU runs the suite) and the
// per-ISA convolution kernels against a naive convolution, each level this CPU can run.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "cli_runner.h"
#include "core/blas.h"
#include "core/cpu_blas_core.h"
#include "core/cpu_dispatch.h"
#include "core/cpu_info.h"
#include "core/parallel_for.h"
#include "core/rng.h"
#include "layers/conv_kernels_isa.h"

using namespace mnistnet;

namespace {

CpuInfo intel(int model) {
  CpuInfo c;
  c.vendor = "GenuineIntel";
  c.family = 6;
  c.model = model;
  c.sse42 = true;
  return c;
}
CpuInfo with_avx2(CpuInfo c) {
  c.avx = c.avx2 = c.fma = true;
  return c;
}
CpuInfo with_avx512(CpuInfo c) {
  c = with_avx2(c);
  c.avx512f = c.avx512dq = c.avx512cd = c.avx512bw = c.avx512vl = true;
  return c;
}
CpuInfo amd(int family, int model) {
  CpuInfo c = intel(model);
  c.vendor = "AuthenticAMD";
  c.family = family;
  return c;
}

}  // namespace

TEST_CASE("OpenBLAS fallbacks are recognised from cpuid", "[cpu]") {
  // Sapphire Rapids (family 6 model 143) and Emerald/Granite Rapids-class model 207 parts are
  // newer than OpenBLAS 0.3.21's tables: it says Prescott.
  CHECK(wanted_openblas_core(with_avx512(intel(207)), "Prescott") == "SkylakeX");
  CHECK(wanted_openblas_core(with_avx512(intel(143)), "Haswell") == "SkylakeX");
  CHECK(wanted_openblas_core(with_avx2(intel(207)), "Prescott") == "Haswell");
  CHECK(wanted_openblas_core(with_avx2(intel(60)), "Sandybridge") == "Haswell");
  // Right picks are kept, including AVX-512 cores newer than SkylakeX.
  CHECK(wanted_openblas_core(with_avx512(intel(85)), "SkylakeX").empty());
  CHECK(wanted_openblas_core(with_avx512(intel(85)), "Cooperlake").empty());
  CHECK(wanted_openblas_core(with_avx512(intel(143)), "SapphireRapids").empty());
  CHECK(wanted_openblas_core(with_avx2(intel(60)), "haswell").empty());
  // AMD: AVX-512 kernels on Zen 4 and Zen 5 (OpenBLAS picks Cooperlake there itself; its Zen
  // kernels are AVX2), Zen kernels on the Zens before, Excavator before them.
  CHECK(wanted_openblas_core(with_avx512(amd(25, 17)), "Cooperlake").empty());
  CHECK(wanted_openblas_core(with_avx512(amd(26, 2)), "Zen") == "SkylakeX");
  CHECK(wanted_openblas_core(with_avx512(amd(26, 2)), "Prescott") == "SkylakeX");
  CHECK(wanted_openblas_core(with_avx2(amd(23, 49)), "Barcelona") == "Zen");
  CHECK(wanted_openblas_core(with_avx2(amd(21, 96)), "Bulldozer") == "Excavator");
  CHECK(wanted_openblas_core(with_avx2(amd(25, 1)), "Zen").empty());
  // An OS that does not save the zmm registers: AVX-512 is not usable, AVX2 is.
  CpuInfo no_zmm = with_avx512(intel(207));
  no_zmm.avx512f = no_zmm.avx512bw = no_zmm.avx512vl = no_zmm.avx512dq = no_zmm.avx512cd = false;
  CHECK(wanted_openblas_core(no_zmm, "Prescott") == "Haswell");
  // Old CPUs: SSE4.2 -> Nehalem; nothing to gain below that.
  CHECK(wanted_openblas_core(intel(26), "Prescott") == "Nehalem");
  CpuInfo old = intel(15);
  old.sse42 = false;
  CHECK(wanted_openblas_core(old, "Prescott").empty());
  CHECK(wanted_openblas_core(old, "Core2").empty());
}

TEST_CASE("An explicit OPENBLAS_CORETYPE is always respected", "[cpu]") {
  const CpuInfo sapphire = with_avx512(intel(207));
  const BlasCoreAction fresh = blas_core_action(sapphire, "Prescott", nullptr, nullptr);
  CHECK(fresh.kind == BlasCoreAction::switch_core);
  CHECK(fresh.core == "SkylakeX");
  // The user's own choice, even a slow one, is never changed or re-executed.
  CHECK(blas_core_action(sapphire, "Prescott", "Prescott", nullptr).kind == BlasCoreAction::keep);
  CHECK(blas_core_action(sapphire, "Haswell", "Haswell", nullptr).kind == BlasCoreAction::keep);
  // Our own re-exec verifies the core it set, once; a core found wrong is not tried again.
  CHECK(blas_core_action(sapphire, "SkylakeX", "SkylakeX", "Prescott").kind ==
        BlasCoreAction::verify);
  CHECK(blas_core_action(sapphire, "Prescott", "Prescott", "!Prescott").kind ==
        BlasCoreAction::keep);
  CHECK(blas_core_action(with_avx512(amd(25, 17)), "Cooperlake", nullptr, nullptr).kind ==
        BlasCoreAction::keep);
  CHECK(blas_core_action(with_avx2(amd(23, 49)), "Zen", nullptr, nullptr).kind ==
        BlasCoreAction::keep);
}

TEST_CASE("Kernel instruction sets: the CPU's best, lowered on request only", "[cpu]") {
  const CpuInfo zen4 = with_avx512(amd(25, 17));
  CHECK(best_isa(zen4) == Isa::avx512);
  CHECK(best_isa(with_avx2(intel(60))) == Isa::avx2);
  CHECK(best_isa(intel(26)) == Isa::baseline);
  CpuInfo avx2_no_fma = with_avx2(intel(60));
  avx2_no_fma.fma = false;
  CHECK(best_isa(avx2_no_fma) == Isa::baseline);
  CHECK(choose_isa(zen4, nullptr) == Isa::avx512);
  CHECK(choose_isa(zen4, "avx2") == Isa::avx2);
  CHECK(choose_isa(zen4, "baseline") == Isa::baseline);
  CHECK(choose_isa(with_avx2(intel(60)), "avx512") == Isa::avx2);  // never above the CPU
  CHECK(choose_isa(intel(26), "avx2") == Isa::baseline);
  CHECK(std::string(isa_name(engine_isa())) == isa_name(engine_isa()));
}

namespace {

MNISTNET_ISA_CLONES void axpy_clones(float* __restrict y, const float* __restrict x, float a,
                                     int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

}  // namespace

TEST_CASE("MNISTNET_ISA_CLONES functions run the clone this CPU can run", "[cpu]") {
  std::vector<float> x(1000), y(1000, 1.0f);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  axpy_clones(y.data(), x.data(), 0.5f, static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == 1.0f + 0.5f * static_cast<float>(i));
}

TEST_CASE("This machine is described on one line each", "[cpu]") {
  const std::string d = machine_description();
  CHECK(d.find("cpu:") != std::string::npos);
  CHECK(d.find("blas:") != std::string::npos);
  CHECK(d.find(blas_core_name()) != std::string::npos);
  CHECK(d.find(std::string("kernels: ") + isa_name(engine_isa())) != std::string::npos);
  CHECK(!host_cpu().vendor.empty());
}

namespace {

// `mnistnet --version` under the given environment assignments (OPENBLAS_CORETYPE unset first).
std::string version_with(const std::string& env) {
  const auto out = std::filesystem::temp_directory_path() /
                   ("mnistnet-cpu-version-" + std::to_string(::getpid()) + ".txt");
  const std::string command = "env -u OPENBLAS_CORETYPE -u MNISTNET_OPENBLAS_PICKED " + env + " '" +
                              MNISTNET_BINARY + "' --version >'" + out.string() + "'";
  REQUIRE(std::system(command.c_str()) == 0);
  std::string text = mnistnet::testing::slurp(out);
  std::filesystem::remove(out);
  return text;
}

}  // namespace

TEST_CASE("mnistnet re-executes itself with the right OpenBLAS core after a fallback", "[cpu]") {
  const std::string want = wanted_openblas_core(host_cpu(), "Prescott");
  if (want.empty()) {
    WARN("skipped: this CPU has nothing better than Prescott's kernels");
    return;
  }
  // OpenBLAS "picked" Prescott: the program sets OPENBLAS_CORETYPE, re-executes, checks an
  // SGEMM and runs the kernels that fit.
  CHECK_THAT(version_with("MNISTNET_TEST_OPENBLAS_PICK=Prescott"),
             Catch::Contains("core " + want + " (set by mnistnet; OpenBLAS picked Prescott)"));
  // The user's OPENBLAS_CORETYPE wins, even a slow one; --version says what it costs.
  CHECK_THAT(version_with("MNISTNET_TEST_OPENBLAS_PICK=Prescott OPENBLAS_CORETYPE=Prescott"),
             Catch::Contains("core Prescott (OPENBLAS_CORETYPE; this CPU runs " + want +
                             " kernels: unset OPENBLAS_CORETYPE for full speed)"));
  CHECK_THAT(version_with("OPENBLAS_CORETYPE=" + want),
             Catch::Contains("core " + want + " (OPENBLAS_CORETYPE)"));
  CHECK_THAT(version_with(""), Catch::Contains("(OpenBLAS's pick)"));
}

namespace {

namespace ck = conv_kernels;

ck::Geometry geometry(int64_t h, int64_t w, int64_t cin, int64_t filters, int64_t k, int64_t stride,
                      int64_t pad) {
  ck::Geometry g;
  g.in_h = h;
  g.in_w = w;
  g.in_c = cin;
  g.filters = filters;
  g.kernel_h = g.kernel_w = k;
  g.stride_h = g.stride_w = stride;
  g.pad_top = g.pad_left = pad;
  g.out_h = (h + 2 * pad - k) / stride + 1;
  g.out_w = (w + 2 * pad - k) / stride + 1;
  g.padded_h = (g.out_h - 1) * stride + k;
  g.padded_w = (g.out_w - 1) * stride + k;
  return g;
}

// Keras's geometry (Conv2D::build's rule): 'same' pads TensorFlow's way, the odd pixel after;
// 'valid' may leave input rows and columns no field reads.
ck::Geometry keras_geometry(int64_t h, int64_t w, int64_t cin, int64_t filters, int64_t kh,
                            int64_t kw, int64_t stride, bool same) {
  auto axis = [&](int64_t in, int64_t k, int64_t& out, int64_t& before, int64_t& padded) {
    out = same ? (in + stride - 1) / stride : (in - k) / stride + 1;
    before = same ? std::max<int64_t>((out - 1) * stride + k - in, 0) / 2 : 0;
    padded = std::max((out - 1) * stride + k, before + in);
  };
  ck::Geometry g;
  g.in_h = h;
  g.in_w = w;
  g.in_c = cin;
  g.filters = filters;
  g.kernel_h = kh;
  g.kernel_w = kw;
  g.stride_h = g.stride_w = stride;
  axis(h, kh, g.out_h, g.pad_top, g.padded_h);
  axis(w, kw, g.out_w, g.pad_left, g.padded_w);
  return g;
}

std::vector<float> random_values(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.below(2001)) / 1000.0f - 1.0f;
  return v;
}

// x(b, iy, ix, c) of the unpadded input, 0 outside it.
float at(const ck::Geometry& g, const std::vector<float>& x, int64_t b, int64_t iy, int64_t ix,
         int64_t c) {
  if (iy < 0 || ix < 0 || iy >= g.in_h || ix >= g.in_w) return 0.0f;
  return x[static_cast<size_t>(((b * g.in_h + iy) * g.in_w + ix) * g.in_c + c)];
}

struct Results {
  std::vector<float> y, kernel_grad, dx;
};

Results run_kernels(const ck::KernelTable& t, const ck::Geometry& g, int64_t batch,
                    const std::vector<float>& x, const std::vector<float>& w,
                    const std::vector<float>& dy) {
  auto sz = [](int64_t n) { return static_cast<size_t>(n); };
  std::vector<float> padded(sz(batch * g.image_stride()));
  ck::pad_input(g, x.data(), batch, padded.data());
  std::vector<float> packed(sz(g.packed_kernel_size())), packed_t(sz(g.packed_transposed_size()));
  ck::pack_kernel(g, w.data(), packed.data());
  ck::pack_transposed_kernel(g, w.data(), packed_t.data());
  std::vector<float> bias(sz(g.padded_filters()), 0.0f);
  Results r;
  r.y.resize(sz(batch * g.pixels() * g.filters));
  t.forward(g, padded.data(), batch, packed.data(), bias.data(), false, r.y.data());
  std::vector<float> scratch(sz(std::max<int64_t>(g.padded_dy_size(batch), 1)));
  std::vector<float> packed_grad(sz(g.packed_kernel_size()));
  t.kernel_gradient(g, padded.data(), dy.data(), batch, scratch.data(), packed_grad.data());
  r.kernel_grad.resize(w.size());
  ck::unpack_kernel(g, packed_grad.data(), r.kernel_grad.data());
  std::vector<float> dy_transposed(sz(g.transposed_dy_size(batch)));
  r.dx.resize(x.size());
  t.input_gradient(g, dy.data(), batch, packed_t.data(), dy_transposed.data(), r.dx.data());
  return r;
}

void check_close(const std::vector<float>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    REQUIRE(std::fabs(got[i] - want[i]) <= 1e-4 * (1.0 + std::fabs(want[i])));
  }
}

}  // namespace

// Forward, kernel gradient and input gradient of every instruction set this CPU runs, against
// the definitions in double; each result the same bit for bit on a second call.
void check_kernels(const ck::Geometry& g, int64_t batch) {
  const int64_t K = g.patch(), F = g.filters;
  const auto x = random_values(static_cast<size_t>(batch * g.in_h * g.in_w * g.in_c), 1);
  const auto w = random_values(static_cast<size_t>(K * F), 2);
  const auto dy = random_values(static_cast<size_t>(batch * g.pixels() * F), 3);
  // The definitions, in double: y = patch . W, dW = sum patch x dy, dx = adjoint.
  std::vector<double> y(dy.size(), 0.0), dw(w.size(), 0.0), dx(x.size(), 0.0);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t oy = 0; oy < g.out_h; ++oy)
      for (int64_t ox = 0; ox < g.out_w; ++ox)
        for (int64_t ky = 0; ky < g.kernel_h; ++ky)
          for (int64_t kx = 0; kx < g.kernel_w; ++kx)
            for (int64_t c = 0; c < g.in_c; ++c) {
              const int64_t iy = oy * g.stride_h + ky - g.pad_top;
              const int64_t ix = ox * g.stride_w + kx - g.pad_left;
              const double xv = at(g, x, b, iy, ix, c);
              const int64_t k = (ky * g.kernel_w + kx) * g.in_c + c;
              const int64_t p = (b * g.out_h + oy) * g.out_w + ox;
              for (int64_t f = 0; f < F; ++f) {
                const auto pf = static_cast<size_t>(p * F + f), kf = static_cast<size_t>(k * F + f);
                y[pf] += xv * w[kf];
                dw[kf] += xv * dy[pf];
                if (iy >= 0 && ix >= 0 && iy < g.in_h && ix < g.in_w)
                  dx[static_cast<size_t>(((b * g.in_h + iy) * g.in_w + ix) * g.in_c + c)] +=
                      w[kf] * dy[pf];
              }
            }
  for (Isa isa : {Isa::baseline, Isa::avx2, Isa::avx512}) {
    if (isa > best_isa(host_cpu())) continue;
    INFO(isa_name(isa) << " kernels, K = " << K << ", " << F << " filters");
    const Results r = run_kernels(ck::kernel_table(isa), g, batch, x, w, dy);
    check_close(r.y, y);
    check_close(r.kernel_grad, dw);
    check_close(r.dx, dx);
    // Within one instruction set the result is the same bit for bit, call after call.
    const Results again = run_kernels(ck::kernel_table(isa), g, batch, x, w, dy);
    CHECK(again.y == r.y);
    CHECK(again.kernel_grad == r.kernel_grad);
    CHECK(again.dx == r.dx);
    // And whatever the thread count: every sum runs in one fixed order.
    set_parallel_threads(1);
    const Results single = run_kernels(ck::kernel_table(isa), g, batch, x, w, dy);
    set_parallel_threads(0);
    CHECK(single.y == r.y);
    CHECK(single.kernel_grad == r.kernel_grad);
    CHECK(single.dx == r.dx);
  }
}

TEST_CASE("Every kernel instruction set this CPU runs computes the convolution", "[cpu][conv2d]") {
  // conv's first layer (K = 9), resnet's stem (K = 9, 16 filters), a 2x2 valid one with 40
  // filters (the small-patch kernel gradient), a strided one with 24 filters (8-lane blocks, or
  // 16 lanes padded on AVX-512), a 5x5x3 one; conv's second layer and a 24-channel one, whose
  // input gradients take the pixel-vector tiles on AVX-512 (12 channels a tile over 2 images,
  // the third image alone; 8 channels over 3 images).
  const ck::Geometry cases[] = {geometry(28, 28, 1, 12, 3, 1, 1), geometry(28, 28, 1, 16, 3, 1, 1),
                                geometry(7, 9, 1, 40, 2, 1, 0),   geometry(14, 14, 12, 24, 6, 2, 2),
                                geometry(9, 11, 3, 16, 5, 2, 2),  geometry(28, 28, 12, 24, 6, 2, 2),
                                geometry(28, 28, 24, 8, 3, 1, 1)};
  for (const ck::Geometry& g : cases) check_kernels(g, 3);
}

TEST_CASE("The convolution kernels on odd shapes", "[cpu][conv2d]") {
  // Edge padding on one side ('same' with even kernels), strides 2 and 3, 'valid' leaving rows
  // unread, kernels smaller than the stride, batch 1, channel and filter counts that are not
  // whole vectors, the codelab's and resnet's own layers, and kernel gradients of many tiles.
  struct Case {
    int64_t h, w, cin, filters, kh, kw, stride;
    bool same;
    int64_t batch;
  };
  const Case cases[] = {{28, 28, 12, 24, 6, 6, 2, true, 2},
                        {14, 14, 24, 32, 6, 6, 2, true, 2},
                        {28, 28, 16, 16, 3, 3, 1, true, 1},
                        {14, 14, 32, 32, 3, 3, 1, true, 1},
                        {7, 7, 64, 64, 3, 3, 1, true, 2},
                        {14, 14, 32, 64, 3, 3, 2, true, 1},
                        {14, 14, 32, 64, 1, 1, 2, true, 2},
                        {9, 7, 5, 3, 3, 3, 2, true, 3},
                        {11, 10, 20, 12, 4, 4, 3, false, 2},
                        {8, 9, 13, 17, 2, 3, 1, false, 1},
                        {6, 5, 7, 9, 4, 2, 2, true, 2},
                        {5, 5, 1, 8, 5, 5, 1, true, 1},
                        {7, 6, 40, 5, 3, 3, 1, false, 1},
                        {6, 6, 70, 2, 2, 2, 2, true, 1},
                        // tap-vector kernel gradients of more tiles than a thread's pass holds
                        {8, 8, 16, 16, 5, 5, 1, true, 2},
                        {10, 9, 32, 24, 3, 3, 1, true, 2}};
  for (const Case& c : cases) {
    INFO(c.h << "x" << c.w << "x" << c.cin << " -> " << c.filters << " filters " << c.kh << "x"
             << c.kw << " stride " << c.stride << (c.same ? " same" : " valid") << ", batch "
             << c.batch);
    check_kernels(keras_geometry(c.h, c.w, c.cin, c.filters, c.kh, c.kw, c.stride, c.same),
                  c.batch);
  }
}
