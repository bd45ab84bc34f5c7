// Ensembles in `eval` and `predict`: --model several times averages the models' probabilities;
// an ensemble of one model is the model; models that do not fit together are refused, naming
// the file.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli/ensemble.h"
#include "cli_runner.h"
#include "config/config_loader.h"
#include "core/errors.h"
#include "model/model_file.h"
#include "serve/class_scores.h"
#include "synthetic_idx.h"
#include "train/trainer.h"

using namespace mnistnet;
using namespace mnistnet::testing;
using Catch::Contains;

namespace {

const char* kModel = R"({"input_shape": [28, 28, 1], "layers": [{"type": "Flatten"},
    {"type": "Dense", "units": 16, "activation": "relu"},
    {"type": "Dense", "units": 10, "activation": "softmax"}]})";

std::string save(const std::filesystem::path& dir, const std::string& name, const char* spec,
                 uint64_t seed, double divisor = 256.0) {
  Model m = Model::build(parse_model_spec(nlohmann::json::parse(spec), name, "/model"), seed);
  const auto path = dir / name;
  save_model(path, m, {"tiny", "mnist", divisor, 10000, {}});
  return path.string();
}

struct Fixture {
  TempDir dir;
  std::string a = save(dir.path, "a.mnn", kModel, 1);
  std::string b = save(dir.path, "b.mnn", kModel, 2, 255.0);  // its own pixel scale
  Dataset test = synthetic_dataset(30);
};

}  // namespace

TEST_CASE("An ensemble of one model gives the model's probabilities and evaluation", "[ensemble]") {
  Fixture f;
  std::vector<EnsembleMember> one = load_ensemble({f.a});
  std::vector<float> x, p;
  ensemble_probabilities(one, f.test.pixels.data(), f.test.count, x, p);
  LoadedModel alone = load_model(f.a);
  std::vector<float> input(f.test.pixels.size());
  for (size_t j = 0; j < input.size(); ++j) input[j] = f.test.pixels[j] / 256.0f;
  const float* y = alone.model.predict(input.data(), f.test.count);
  for (int64_t i = 0; i < f.test.count; ++i) {
    const std::vector<float> own = output_probabilities(y + i * 10, 10, true);
    CHECK(std::vector<float>(p.begin() + i * 10, p.begin() + (i + 1) * 10) == own);
  }
  std::vector<int32_t> by_model, by_ensemble;
  const Evaluation e = evaluate(alone.model, f.test, 7, 1.0f / 256, &by_model);
  const Evaluation en = evaluate_ensemble(one, f.test, 7, &by_ensemble);
  CHECK(by_ensemble == by_model);
  CHECK(en.accuracy == e.accuracy);
  CHECK(en.loss == Approx(e.loss).epsilon(1e-5));
  CHECK(en.count == 30);
}

TEST_CASE("An ensemble averages its models' probabilities, each with its own pixel scale",
          "[ensemble]") {
  Fixture f;
  std::vector<EnsembleMember> both = load_ensemble({f.a, f.b});
  std::vector<EnsembleMember> a = load_ensemble({f.a}), b = load_ensemble({f.b});
  std::vector<float> x, pab, pa, pb;
  ensemble_probabilities(both, f.test.pixels.data(), f.test.count, x, pab);
  ensemble_probabilities(a, f.test.pixels.data(), f.test.count, x, pa);
  ensemble_probabilities(b, f.test.pixels.data(), f.test.count, x, pb);
  REQUIRE(pab.size() == 300);
  for (size_t k = 0; k < pab.size(); ++k) CHECK(pab[k] == Approx((pa[k] + pb[k]) / 2));
  CHECK(pa != pb);
  CHECK(ensemble_name(both) == "an ensemble of 2 models (" + f.a + ", " + f.b + ")");
}

TEST_CASE("Models that cannot form an ensemble are refused, naming the file", "[ensemble]") {
  Fixture f;
  const std::string other_shape = save(f.dir.path, "wide.mnn", R"({"input_shape": [32, 32, 1],
      "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 10, "activation": "softmax"}]})",
                                       3);
  try {
    load_ensemble({f.a, other_shape});
    FAIL("no error");
  } catch (const UserError& e) {
    CHECK(std::string(e.what()) ==
          other_shape + ": an ensemble's models must take the same images, but this one takes " +
              "[28, 28, 1] (input_shape [32, 32, 1]) and " + f.a +
              "'s take [28, 28, 1] (input_shape [28, 28, 1])");
  }
  const std::string five = save(f.dir.path, "five.mnn", R"({"input_shape": [28, 28, 1],
      "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 5, "activation": "softmax"}]})",
                                3);
  CHECK_THROWS_WITH(load_ensemble({f.a, f.b, five}),
                    five +
                        ": an ensemble's models must have the same classes, but this one has "
                        "5 and " +
                        f.a + "'s has 10");
}

TEST_CASE("eval and predict take --model several times", "[ensemble][cli]") {
  Fixture f;
  write_synthetic_dataset(f.dir.path / "data", 60, 20);
  const std::string data = " --data '" + (f.dir.path / "data").string() + "' --json";
  const CliResult one = run_cli("eval --model '" + f.a + "'" + data, f.dir.path);
  REQUIRE(one.exit_code == 0);
  const CliResult twice =
      run_cli("eval --model '" + f.a + "' --model '" + f.a + "'" + data, f.dir.path);
  REQUIRE(twice.exit_code == 0);
  const auto j1 = nlohmann::json::parse(one.out), j2 = nlohmann::json::parse(twice.out);
  CHECK(j2["models"].size() == 2);
  CHECK(j2["accuracy"] == j1["accuracy"]);  // the same model twice is the model
  CHECK(j2["confusion_matrix"] == j1["confusion_matrix"]);
  CHECK(j2["loss"].get<double>() == Approx(j1["loss"].get<double>()).epsilon(1e-5));

  const CliResult mixed = run_cli("eval -m '" + f.a + "' -m '" + f.b + "'" + data, f.dir.path);
  REQUIRE(mixed.exit_code == 0);
  CHECK(nlohmann::json::parse(mixed.out)["models"] == nlohmann::json({f.a, f.b}));

  // predict: the CSV path (every row), one model and the same model twice.
  std::string csv = "label";
  for (int j = 0; j < 784; ++j) (csv += ",pixel") += std::to_string(j);
  csv += "\n";
  for (int i = 0; i < 5; ++i) {
    csv += std::to_string(i % 10);
    for (int j = 0; j < 784; ++j) (csv += ",") += std::to_string(synthetic_pixel(i, j));
    csv += "\n";
  }
  {
    std::ofstream out(f.dir.path / "rows.csv");
    out << csv;
  }
  const std::string rows = " --csv '" + (f.dir.path / "rows.csv").string() + "' --out ";
  REQUIRE(
      run_cli("predict -m '" + f.a + "'" + rows + "one.csv", f.dir.path, f.dir.path).exit_code ==
      0);
  REQUIRE(run_cli("predict -m '" + f.a + "' -m '" + f.a + "'" + rows + "two.csv", f.dir.path,
                  f.dir.path)
              .exit_code == 0);
  CHECK(slurp(f.dir.path / "two.csv") == slurp(f.dir.path / "one.csv"));
  CHECK(slurp(f.dir.path / "one.csv").starts_with("ImageId,Label\n1,"));

  const std::string wrong = save(f.dir.path, "five.mnn", R"({"input_shape": [28, 28, 1],
      "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 5, "activation": "softmax"}]})",
                                 3);
  const CliResult refused = run_cli("eval -m '" + f.a + "' -m '" + wrong + "'" + data, f.dir.path);
  CHECK(refused.exit_code != 0);
  CHECK_THAT(refused.err, Contains(wrong + ": an ensemble's models must have the same classes"));
}
