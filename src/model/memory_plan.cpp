#include "model/memory_plan.h"

#include <algorithm>
#include <numeric>

namespace mnistnet {

MemoryPlan plan_memory(const std::vector<TensorLifetime>& tensors, int64_t alignment) {
  const auto round_up = [&](int64_t n) { return (n + alignment - 1) / alignment * alignment; };
  MemoryPlan plan;
  plan.offsets.assign(tensors.size(), 0);
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return tensors[a].size > tensors[b].size; });
  std::vector<size_t> placed;
  std::vector<std::pair<int64_t, int64_t>> busy;  // [begin, end) of live placed tensors
  for (const size_t t : order) {
    const TensorLifetime& x = tensors[t];
    plan.unplanned += x.size;
    busy.clear();
    for (const size_t p : placed) {
      const TensorLifetime& y = tensors[p];
      if (y.first <= x.last && x.first <= y.last)
        busy.emplace_back(plan.offsets[p], plan.offsets[p] + round_up(y.size));
    }
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;  // the lowest gap that holds x
    for (const auto& [begin, end] : busy) {
      if (begin >= offset + x.size) break;
      offset = std::max(offset, round_up(end));
    }
    plan.offsets[t] = offset;
    plan.total = std::max(plan.total, offset + round_up(x.size));
    placed.push_back(t);
  }
  return plan;
}

}  // namespace mnistnet
