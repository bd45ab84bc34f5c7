// The conv kernels' source, compiled once per instruction set: conv_kernels_avx512.cpp,
// conv_kernels_avx2.cpp and conv_kernels_baseline.cpp each include it inside their own
// `#pragma GCC target` region, with MNISTNET_CONV_ISA naming the namespace and
// kAccumulatorRegisters / kRegisterFloats describing the vector registers. Not a header to
// include anywhere else. (GCC's C++ front end does not redefine __AVX512F__ and friends inside a
// target pragma, hence the explicit constants.)
//
// Everything here has internal linkage or lives in the ISA's namespace: a function compiled for
// AVX-512 must never be merged by the linker with a baseline copy of the same inline function.

#include "layers/conv_forward_impl.h"
#include "layers/conv_input_gradient_impl.h"
#include "layers/conv_kernel_gradient_impl.h"
#include "layers/conv_vectors_impl.h"

namespace mnistnet::conv_kernels::MNISTNET_CONV_ISA {

extern const KernelTable kTable{forward, kernel_gradient, input_gradient};

}  // namespace mnistnet::conv_kernels::MNISTNET_CONV_ISA
