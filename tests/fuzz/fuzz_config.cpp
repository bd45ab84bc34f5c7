// libFuzzer target: config text (and --set overrides) -> Config.
// Input: the JSON text, optionally followed by a NUL byte and one "key.path=value" override per
// line. Any exception other than ConfigError (a UserError) is a bug: the user would see
// "internal error" instead of a line naming the file and JSON pointer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config/config_loader.h"
#include "core/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string text = input.substr(0, nul);
  std::vector<std::string> overrides;
  if (nul != std::string::npos) {
    size_t start = nul + 1;
    while (start <= input.size()) {
      const size_t end = std::min(input.find('\n', start), input.size());
      overrides.push_back(input.substr(start, end - start));
      start = end + 1;
    }
  }
  try {
    const mnistnet::Config config = mnistnet::parse_config_text(text, "fuzz.json", overrides);
    // train saves the resolved config in the run directory: it must serialise.
    (void)config.resolved.dump(2);
  } catch (const mnistnet::UserError&) {
  }
  return 0;
}
