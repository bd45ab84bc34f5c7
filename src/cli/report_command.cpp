// mnistnet report: placeholder until the report lands.
#include "cli/commands.h"
#include "core/errors.h"

namespace mnistnet {

int run_report(const ReportOptions&) { throw UserError("report is not implemented yet"); }

}  // namespace mnistnet
