#pragma once
// A fused op against the same ops unfused: `spec(between)` builds the model with `between`
// (JSON of layers, with a trailing comma) inserted where it stops the fusion; spec("") is the
// fused model, spec(Dropout(0)) the reference. Both start from the same weights, take one
// training step on the same batch, and must give the same bits: weights, gradients and
// predictions. `fused_ops` are the profile rows that must say "fused".
#include <algorithm>
#include <catch2/catch.hpp>
#include <initializer_list>
#include <vector>

#include "gradient_check.h"
#include "model/loss.h"
#include "model/model.h"

namespace mnistnet::testing {

template <class Spec>
void check_fused_equals_unfused(const Spec& spec, int64_t input_size,
                                std::initializer_list<size_t> fused_ops) {
  Model fused = Model::build(spec(""), 3);
  Model reference = Model::build(spec(R"({"type": "Dropout", "rate": 0.0},)"), 3);
  std::vector<ParamRef> fused_params = fused.params(), reference_params = reference.params();
  REQUIRE(fused_params.size() == reference_params.size());
  for (size_t p = 0; p < fused_params.size(); ++p)
    std::copy_n(fused_params[p].value, fused_params[p].size(), reference_params[p].value);

  fused.set_profiling(true);
  const int64_t batch = 5;
  const std::vector<float> x = random_vector(input_size * batch, 11);
  const int32_t labels[] = {0, 2, 1, 2, 0};
  for (Model* m : {&fused, &reference}) {
    const float* logits = m->forward_logits(x.data(), batch, true);
    softmax_cross_entropy(logits, labels, batch, 3, m->logits_grad());
    m->backward(batch);
  }
  for (size_t op : fused_ops) CHECK(fused.profile()[op].fused);
  for (size_t p = 0; p < fused_params.size(); ++p) {
    INFO(fused_params[p].name);
    const int64_t n = fused_params[p].size();
    CHECK(std::equal(fused_params[p].value, fused_params[p].value + n, reference_params[p].value));
    if (fused_params[p].grad)
      CHECK(std::equal(fused_params[p].grad, fused_params[p].grad + n, reference_params[p].grad));
  }
  // Inference (batch norm's moving statistics) through the fused op.
  const float* a = fused.predict(x.data(), batch);
  std::vector<float> fused_out(a, a + 3 * batch);
  const float* b = reference.predict(x.data(), batch);
  CHECK(std::equal(fused_out.begin(), fused_out.end(), b));
}

}  // namespace mnistnet::testing
