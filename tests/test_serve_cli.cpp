// mnistnet serve through the real executable and real clients: tests/serve/serve_e2e.py starts
// the server on an ephemeral loopback port and calls it with urllib and curl (every endpoint,
// every fault, batched == unbatched, reload under requests, SIGTERM). The models are saved here.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "config/config_loader.h"
#include "image_test_files.h"
#include "model/model_file.h"
#include "synthetic_idx.h"

using namespace mnistnet;
using namespace mnistnet::testing;

namespace {

const char* kSmallConv = R"({"input_shape": [28, 28, 1], "layers": [
    {"type": "Conv2D", "filters": 4, "kernel_size": 3, "strides": 2, "padding": "same",
     "use_bias": false},
    {"type": "BatchNormalization", "center": true, "scale": false},
    {"type": "Activation", "activation": "relu"},
    {"type": "Flatten"},
    {"type": "Dense", "units": 10, "activation": "softmax"}]})";

void save(const std::filesystem::path& path, uint64_t seed) {
  Model m =
      Model::build(parse_model_spec(nlohmann::json::parse(kSmallConv), "digits", "/model"), seed);
  save_model(path, m, {"digits", "mnist", 256.0, 10000, {}});
}

}  // namespace

TEST_CASE("serve: endpoints, faults, batching, reload and SIGTERM with real clients",
          "[serve][cli]") {
  if (std::system("python3 -c '' >/dev/null 2>&1") != 0) {
    WARN("no python3: the serve end-to-end test is skipped");
    return;
  }
  TempDir dir;
  save(dir.path / "a.mnn", 7);
  save(dir.path / "b.mnn", 8);
  const std::string a = slurp(dir.path / "a.mnn");
  std::ofstream(dir.path / "broken.mnn", std::ios::binary) << a.substr(0, a.size() / 2);
  write_image(dir.path / "digit.png", draw_glyph(120, 90, {40, 10, 45, 70}, Glyph::kRing, 20, 235));

  const auto out = dir.path / "e2e.txt";
  const std::string command =
      std::string("python3 '") + MNISTNET_SOURCE_DIR + "/tests/serve/serve_e2e.py' --binary '" +
      MNISTNET_BINARY + "' --model '" + (dir.path / "a.mnn").string() + "' --other '" +
      (dir.path / "b.mnn").string() + "' --broken '" + (dir.path / "broken.mnn").string() +
      "' --image '" + (dir.path / "digit.png").string() + "' --workdir '" + dir.path.string() +
      "' >'" + out.string() + "' 2>&1";
  const int status = std::system(command.c_str());
  INFO(slurp(out));
  REQUIRE(status == 0);
}
