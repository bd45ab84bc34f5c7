#pragma once
// Places tensors with known lifetimes in one buffer so that two tensors share memory only when
// no moment needs both (as ggml's allocator and TFLite's greedy-by-size planner do): the model
// plans its activations and gradients once, at build, and allocates the buffer once.
//
// Time is a sequence of steps (the model's forward ops, then its backward ops); a tensor is
// live from `first` to `last` inclusive: written at `first`, last read at `last`.
#include <cstdint>
#include <vector>

namespace mnistnet {

struct TensorLifetime {
  int64_t size = 0;  // floats
  int first = 0, last = 0;
};

struct MemoryPlan {
  std::vector<int64_t> offsets;  // per tensor, in floats from the buffer's start
  int64_t total = 0;             // floats the buffer needs (the peak)
  int64_t unplanned = 0;         // the sum of the sizes: what one buffer per tensor would need
};

// Greedy by size: the largest tensors first, each at the lowest offset where it overlaps no
// already placed tensor that is live at the same time. Deterministic; every offset is a
// multiple of `alignment` floats.
MemoryPlan plan_memory(const std::vector<TensorLifetime>& tensors, int64_t alignment = 16);

}  // namespace mnistnet
