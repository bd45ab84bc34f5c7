#pragma once
// Flush denormal floats to zero in the calling thread (x86 MXCSR FTZ and DAZ), as TensorFlow
// does on CPU. Late in training, gradients and batch-norm terms drift into the denormal range,
// where each operation can cost a hundred times more; values that small carry no information
// for a network anyway.
namespace mnistnet {

void flush_denormals_to_zero();

}  // namespace mnistnet
