// mnistnet predict: placeholder until the image path lands.
#include "cli/commands.h"
#include "core/errors.h"

namespace mnistnet {

int run_predict(const PredictOptions&) { throw UserError("predict is not implemented yet"); }

}  // namespace mnistnet
