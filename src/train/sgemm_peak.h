#pragma once
// The machine's practical ceiling: GFLOP/s of a large square OpenBLAS SGEMM (best of a few).
namespace mnistnet {

double measure_sgemm_peak_gflops(int size = 2048, int repeats = 5);

}  // namespace mnistnet
