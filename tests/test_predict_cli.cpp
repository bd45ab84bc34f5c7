// `mnistnet predict` through the real executable, with small models saved by the test (random
// weights: the output format, batching, dumps and exit codes are what is checked here).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "cli_runner.h"
#include "config/config_loader.h"
#include "image/digit_preprocess.h"
#include "image/image_decoder.h"
#include "image_test_files.h"
#include "model/model_file.h"
#include "synthetic_idx.h"

using namespace mnistnet;
using namespace mnistnet::testing;
using Catch::Contains;

namespace {

const char* kSoftmaxModel = R"({"input_shape": [28, 28, 1], "layers": [{"type": "Flatten"},
    {"type": "Dense", "units": 10, "activation": "softmax"}]})";

std::filesystem::path save_test_model(const std::filesystem::path& dir, const std::string& name,
                                      const char* spec) {
  Model m = Model::build(parse_model_spec(nlohmann::json::parse(spec), name, "/model"), 7);
  const auto path = dir / name;
  save_model(path, m, {"tiny", "mnist", 256.0, 10000, {}});
  return path;
}

std::string quoted(const std::filesystem::path& p) { return std::string("'") + p.string() + "'"; }

struct Fixture {
  TempDir dir;
  std::filesystem::path model = save_test_model(dir.path, "tiny.mnn", kSoftmaxModel);
  std::vector<std::filesystem::path> images;  // one per format, each a different glyph or place

  Fixture() {
    const RawImage ring = draw_glyph(280, 190, {90, 20, 105, 150}, Glyph::kRing, 20, 235);
    const RawImage bar = draw_glyph(120, 160, {50, 20, 20, 120}, Glyph::kBar, 255, 0);
    const RawImage small_ring = draw_glyph(60, 60, {10, 10, 30, 40}, Glyph::kRing, 0, 255);
    images = {dir.path / "ring.png", dir.path / "bar.jpg", dir.path / "small ring.bmp",
              dir.path / "ring.pgm"};
    write_image(images[0], with_channels(ring, 4));
    write_image(images[1], with_channels(bar, 3));
    write_image(images[2], small_ring);
    write_image(images[3], ring);
  }
  CliResult predict(const std::string& args) {
    return run_cli("predict --model " + quoted(model) + " " + args, dir.path);
  }
  std::string all_images() const {
    std::string out;
    for (const auto& p : images) out += quoted(p) + " ";
    return out;
  }
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("predict prints each image's digit, probability and top 3", "[predict]") {
  Fixture f;
  const CliResult r = f.predict(f.all_images());
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0].rfind("Model ", 0) == 0);  // which model answered, first
  lines.erase(lines.begin());
  const std::regex format(
      R"((.*): (\d) \((\d\.\d{3})\)  top 3: (\d) (\d\.\d{3}), \d \d\.\d{3}, \d \d\.\d{3})");
  for (size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    INFO(lines[i]);
    REQUIRE(std::regex_match(lines[i], m, format));
    CHECK(m[1] == f.images[i].string());
    CHECK(m[2] == m[4]);  // the digit is the first of the top 3
    CHECK(m[3] == m[5]);
  }
}

TEST_CASE("predict --json prints one array, bad images are errors in place, the rest predicted",
          "[predict]") {
  Fixture f;
  write_bytes(f.dir.path / "garbage.png", std::vector<uint8_t>(100, 7), false);
  write_bytes(f.dir.path / "empty.jpg", {}, false);
  write_bytes(f.dir.path / "huge.bmp", bmp_header_bytes(100000, 100000), false);
  const auto missing = f.dir.path / "missing\xff.png";  // not UTF-8: JSON gets U+FFFD
  const CliResult r =
      f.predict("--json " + quoted(f.images[0]) + " " + quoted(f.dir.path / "garbage.png") + " " +
                quoted(missing) + " " + quoted(f.dir.path / "empty.jpg") + " " +
                quoted(f.dir.path / "huge.bmp") + " " + quoted(f.images[1]));
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  const auto json = nlohmann::json::parse(r.out);
  REQUIRE(json.is_array());
  REQUIRE(json.size() == 6);
  for (size_t i : {0u, 5u}) {
    const auto& o = json[i];
    CHECK(o["file"] == f.images[i == 0 ? 0 : 1].string());
    REQUIRE(o["top"].size() == 3);
    CHECK(o["digit"] == o["top"][0]["digit"]);
    CHECK(o["probability"] == o["top"][0]["probability"]);
    double sum = 0, previous = 1;
    for (const auto& t : o["top"]) {
      const double p = t["probability"];
      CHECK(p <= previous);
      previous = p;
      sum += p;
      CHECK((t["digit"] >= 0 && t["digit"] <= 9));
    }
    CHECK(sum <= 1.0 + 1e-5);
  }
  CHECK_THAT(json[1]["error"].get<std::string>(), Contains("garbage.png: not a readable image"));
  CHECK(json[1]["file"] == (f.dir.path / "garbage.png").string());
  CHECK_THAT(json[2]["error"].get<std::string>(),
             Contains("missing\xEF\xBF\xBD.png: no such file"));
  CHECK_THAT(json[3]["error"].get<std::string>(), Contains("empty.jpg: the file is empty"));
  CHECK_THAT(json[4]["error"].get<std::string>(),
             Contains("huge.bmp: the image is 100000x100000 pixels"));
  const auto errors = lines_of(r.err);
  REQUIRE(errors.size() == 4);
  CHECK(errors[0] == "mnistnet: error: " + json[1]["error"].get<std::string>());
  CHECK(errors[1] ==
        "mnistnet: error: " + missing.string() + ": no such file");  // the bytes as given
  for (size_t i = 2; i < errors.size(); ++i) {
    CHECK(errors[i] == "mnistnet: error: " + json[i + 1]["error"].get<std::string>());
  }
}

TEST_CASE("predict --dump-preprocessed writes the 28x28 each image became", "[predict]") {
  Fixture f;
  write_image(f.dir.path / "ring.bmp",
              draw_glyph(50, 50, {5, 5, 30, 40}, Glyph::kRing, 0, 255));  // stem "ring" again
  const auto dump = f.dir.path / "dump" / "nested";
  const CliResult r = f.predict("--dump-preprocessed " + quoted(dump) + " " + f.all_images() +
                                quoted(f.dir.path / "ring.bmp"));
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> names{"ring.png", "bar.png", "small ring.png", "ring-2.png",
                                       "ring-3.png"};
  for (size_t i = 0; i < names.size(); ++i) {
    const auto source = i < f.images.size() ? f.images[i] : f.dir.path / "ring.bmp";
    INFO(names[i]);
    const GreyImage dumped = read_grey_image(dump / names[i]);
    CHECK(dumped.width == 28);
    CHECK(dumped.height == 28);
    const DigitImage expected = preprocess_digit(read_grey_image(source), source.string());
    CHECK(dumped.pixels == std::vector<uint8_t>(expected.pixels.begin(), expected.pixels.end()));
  }
}

TEST_CASE("predict batches many images and gives each the same answer as alone", "[predict]") {
  Fixture f;
  // 1003 files (over one batch of 1000): copies of the 4 fixture images, as 28x28 PNGs.
  std::vector<DigitImage> inputs;
  for (const auto& p : f.images) inputs.push_back(preprocess_digit(read_grey_image(p), p.string()));
  const auto many = f.dir.path / "many";
  std::filesystem::create_directory(many);
  std::string args = "--json";
  for (int i = 0; i < 1003; ++i) {
    const auto& px = inputs[static_cast<size_t>(i) % inputs.size()].pixels;
    const auto path = many / (std::to_string(i) + ".png");
    write_image(path, RawImage{28, 28, 1, std::vector<uint8_t>(px.begin(), px.end())});
    args += ' ';
    args += quoted(path);
  }
  const CliResult all = f.predict(args);
  REQUIRE(all.exit_code == 0);
  const CliResult alone =
      f.predict("--json " + quoted(many / "0.png") + " " + quoted(many / "1.png") + " " +
                quoted(many / "2.png") + " " + quoted(many / "3.png"));
  REQUIRE(alone.exit_code == 0);
  const auto a = nlohmann::json::parse(all.out), b = nlohmann::json::parse(alone.out);
  REQUIRE(a.size() == 1003);
  for (size_t i : {0u, 1u, 2u, 3u, 998u, 999u, 1000u, 1001u, 1002u}) {
    INFO(i);
    const auto& want = b[i % 4];
    CHECK(a[i]["file"] == (many / (std::to_string(i) + ".png")).string());
    CHECK(a[i]["digit"] == want["digit"]);
    CHECK(a[i]["probability"].get<double>() ==
          Approx(want["probability"].get<double>()).margin(1e-5));
  }
}

TEST_CASE("predict refuses models whose input is not their images, logits become probabilities",
          "[predict]") {
  Fixture f;
  const auto flat10 = save_test_model(f.dir.path, "flat10.mnn", R"({"input_shape": [10], "layers": [
      {"type": "Dense", "units": 10, "activation": "softmax"}]})");
  const CliResult wrong =
      run_cli("predict --model " + quoted(flat10) + " " + quoted(f.images[0]), f.dir.path);
  CHECK(wrong.exit_code == 2);
  CHECK_THAT(wrong.err, Contains("flat10.mnn: the model's images are [28, 28, 1] but its "
                                 "input_shape [10] takes 10 values"));
  CHECK(wrong.out.empty());

  const auto logits =
      save_test_model(f.dir.path, "logits.mnn", R"({"input_shape": [784], "layers": [
      {"type": "Dense", "units": 10}]})");
  const CliResult r =
      run_cli("predict --json --model " + quoted(logits) + " " + f.all_images(), f.dir.path);
  REQUIRE(r.exit_code == 0);
  for (const auto& o : nlohmann::json::parse(r.out)) {
    double sum = 0;
    for (const auto& t : o["top"]) sum += t["probability"].get<double>();
    CHECK((sum > 0.3 && sum <= 1.0 + 1e-5));  // 3 of 10 near-uniform probabilities at least
  }
}

TEST_CASE("predict without --model and without runs/latest says how to get a model", "[predict]") {
  TempDir dir;
  write_image(dir.path / "x.png", draw_glyph(40, 40, {10, 10, 20, 20}, Glyph::kBar, 0, 255));
  const auto err = dir.path / "stderr.txt";
  const std::string command = "cd " + quoted(dir.path) + " && '" + MNISTNET_BINARY +
                              "' predict x.png >/dev/null 2>" + quoted(err);
  const int status = std::system(command.c_str());
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK_THAT(slurp(err), Contains("no --model given, and ") &&
                             Contains("runs/latest does not exist") && Contains("--model FILE"));
}
