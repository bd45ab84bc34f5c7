#pragma once
// Keras's weight regularizers (kernel_regularizer / bias_regularizer on Dense and Conv2D):
// L1L2 adds l1 * sum|w| + l2 * sum(w^2) to the loss, so its gradient l1 * sign(w) + 2 l2 w
// joins the parameter's loss gradient before clipping and the update. The penalty is part of
// the loss shown in training and validation, as in Keras. Regularizer lives in layers/layer.h
// (each ParamRef carries its own).
#include <vector>

#include "layers/layer.h"

namespace mnistnet {

// Doubles of scratch that penalty sums over these parameters need (see chunked_sum.h).
int64_t regularizer_scratch_size(const std::vector<ParamRef>& params);

// The summed penalty of every parameter that has a regularizer, at its current value; with
// add_gradient, also adds the penalty's gradient to each such parameter's grad.
// scratch: regularizer_scratch_size(params) doubles. Allocates nothing.
double apply_regularizers(const std::vector<ParamRef>& params, bool add_gradient, double* scratch);

// The same penalty without gradients, allocating its own scratch (for evaluation).
double regularization_penalty(const std::vector<ParamRef>& params);

}  // namespace mnistnet
