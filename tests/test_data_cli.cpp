// The data formats end to end: the same examples as IDX, CSV, NPZ and a PNG folder train to the
// same metrics and weights; validation_split with a test set evaluated once; eval's class table
// with class names; predict --csv's Kaggle submission; a model whose output width differs from
// the data's classes.
// GCC 12 reports string concatenations of these tests as -Wrestrict overlaps after inlining
// (its bug 105651, a false positive); the library's build keeps the warning.
#pragma GCC diagnostic ignored "-Wrestrict"
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "data/idx_reader.h"
#include "data_formats.h"
#include "model/model_file.h"
#include "synthetic_idx.h"

using namespace mnistnet;
using namespace mnistnet::testing;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

std::string config_text(const std::string& data, int units = 10) {
  std::string out = R"({"seed": 5, "data": )";
  out += data;
  out += R"(,
  "model": {"input_shape": [784], "layers": [
    {"type": "Dense", "units": 24, "activation": "relu"},
    {"type": "Dense", "units": )";
  out += std::to_string(units);
  out += R"(, "activation": "softmax"}]},
  "training": {"epochs": 2, "batch_size": 32, "optimizer": {"type": "adam", "learning_rate": 0.003}},
  "output": {"progress": "none"}})";
  return out;
}

struct Fixture {
  TempDir dir;
  Dataset train, test;
  Fixture() {
    // The band data set, sorted by label so that a class-folder copy has the same order.
    const fs::path idx = dir.path / "idx";
    fs::create_directories(idx);
    write_band_split(idx, "train", 600, 1);
    write_band_split(idx, "t10k", 200, 2);
    train = sorted_by_label(
        read_idx_pair(idx / "train-images-idx3-ubyte.gz", idx / "train-labels-idx1-ubyte.gz"));
    test = sorted_by_label(
        read_idx_pair(idx / "t10k-images-idx3-ubyte.gz", idx / "t10k-labels-idx1-ubyte.gz"));
    write_idx_images(idx / "train-images-idx3-ubyte.gz", train.count, 28, 28, train.pixels, true);
    write_idx_labels(idx / "train-labels-idx1-ubyte.gz", train.labels, true);
    write_idx_images(idx / "t10k-images-idx3-ubyte.gz", test.count, 28, 28, test.pixels, true);
    write_idx_labels(idx / "t10k-labels-idx1-ubyte.gz", test.labels, true);
  }
  CliResult run(const std::string& args) { return run_cli(args, dir.path); }
  fs::path config(const std::string& name, const std::string& data, int units = 10) {
    const fs::path p = dir.path / (name + ".json");
    write_text(p, config_text(data, units));
    return p;
  }
  nlohmann::json train_run(const std::string& name, const std::string& data) {
    const fs::path run_dir = dir.path / "runs" / name;
    const CliResult r = run("train -q --config '" + config(name, data).string() + "' --run-dir '" +
                            run_dir.string() + "'");
    INFO(name << ": " << r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(slurp(run_dir / "summary.json"));
  }
};

// Concatenation without `"literal" + std::string&&`, which trips GCC 12's -Wrestrict.
std::string cat(std::initializer_list<std::string> parts) {
  std::string out;
  for (const std::string& p : parts) out += p;
  return out;
}

std::string quoted_path(const fs::path& p) { return cat({"\"", p.string(), "\""}); }

std::vector<float> weights(const fs::path& model) {
  LoadedModel m = load_model(model);
  std::vector<float> out;
  for (const ParamRef& p : m.model.params()) out.insert(out.end(), p.value, p.value + p.size());
  return out;
}

}  // namespace

TEST_CASE("data cli: IDX, CSV, NPZ and a PNG folder of the same examples train alike",
          "[data_cli]") {
  Fixture f;
  write_text(f.dir.path / "train.csv", csv_text(f.train));
  write_text(f.dir.path / "test.csv", csv_text(f.test));
  write_npz(f.dir.path / "band.npz", f.train, f.test, true);
  write_png_folder(f.dir.path / "png" / "train", f.train);
  write_png_folder(f.dir.path / "png" / "test", f.test);

  const auto idx = f.train_run("idx", cat({R"({"path": )", quoted_path(f.dir.path / "idx"), "}"}));
  const auto csv = f.train_run("csv", cat({R"({"format": "csv", "path": )", quoted_path(f.dir.path),
                                           R"(, "test": "test.csv"})"}));
  const auto npz =
      f.train_run("npz", cat({R"({"path": )", quoted_path(f.dir.path / "band.npz"), "}"}));
  const auto png = f.train_run("png", cat({R"({"path": )", quoted_path(f.dir.path / "png"), "}"}));
  CHECK(idx["val_accuracy"].get<double>() > 0.8);
  for (const auto* other : {&csv, &npz, &png}) {
    CHECK((*other)["val_accuracy"] == idx["val_accuracy"]);
    CHECK((*other)["val_loss"] == idx["val_loss"]);
  }
  const auto w = weights(f.dir.path / "runs" / "idx" / "model.mnn");
  for (const std::string name : {"csv", "npz", "png"}) {
    INFO(name);
    CHECK(weights(f.dir.path / "runs" / name / "model.mnn") == w);
  }
}

TEST_CASE("data cli: validation_split validates on a held-out part, tests once at the end",
          "[data_cli]") {
  Fixture f;
  const auto s = f.train_run("split", cat({R"({"validation_split": 0.25, "path": )",
                                           quoted_path(f.dir.path / "idx"), "}"}));
  REQUIRE(s.contains("test_accuracy"));
  REQUIRE(s.contains("test_loss"));
  CHECK(s["test_accuracy"].get<double>() > 0.5);
  // eval on the model's data (its test split) reproduces the test figures.
  const std::string model = (f.dir.path / "runs" / "split" / "model.mnn").string();
  const std::string data = (f.dir.path / "idx").string();
  const CliResult e = f.run("eval --json --model '" + model + "' --data '" + data + "'");
  INFO(e.err);
  REQUIRE(e.exit_code == 0);
  const auto j = nlohmann::json::parse(e.out);
  CHECK(j["accuracy"] == s["test_accuracy"]);
  CHECK(j["count"] == 200);
  // No test split and no validation_split: a clear error.
  write_text(f.dir.path / "only.csv", csv_text(f.train));
  const CliResult bad = f.run(
      "train -q --config '" +
      f.config("only", cat({R"({"path": )", quoted_path(f.dir.path / "only.csv"), "}"})).string() +
      "' --run-dir '" + (f.dir.path / "runs" / "only").string() + "'");
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("has no test split to validate on; set data.validation_split"));
}

TEST_CASE("data cli: eval prints the class table with the data's class names", "[data_cli]") {
  Fixture f;
  Dataset train = f.train, test = f.test;
  train.class_names = test.class_names = {"T-shirt", "Trouser", "Pullover", "Dress", "Coat",
                                          "Sandal",  "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  write_png_folder(f.dir.path / "clothes" / "train", train);
  write_png_folder(f.dir.path / "clothes" / "test", test);
  f.train_run("clothes", cat({R"({"path": )", quoted_path(f.dir.path / "clothes"), "}"}));
  const std::string model = (f.dir.path / "runs" / "clothes" / "model.mnn").string();
  const std::string data = " --data '" + (f.dir.path / "clothes").string() + "'";
  CliResult e = f.run("eval --model '" + model + "'" + data);
  INFO(e.err);
  REQUIRE(e.exit_code == 0);
  CHECK_THAT(e.out, Contains("class       precision  recall  f1-score  support") &&
                        Contains("Ankle boot") && Contains("confusion matrix"));
  e = f.run("eval --json --model '" + model + "'" + data);
  const auto j = nlohmann::json::parse(e.out);
  REQUIRE(j["classes"].size() == 10);
  CHECK(j["classes"][0]["name"] == "Ankle boot");  // sorted folder names, as Keras
  CHECK(j["classes"][9]["name"] == "Trouser");
  int64_t support = 0;
  for (const auto& c : j["classes"]) support += c["support"].get<int64_t>();
  CHECK(support == 200);
  CHECK(j["confusion_matrix"].size() == 10);
  // Any labelled file: the NPZ of the same test set, by --data.
  Dataset renumbered = test;  // labels in the folders' (sorted) order
  std::vector<std::string> sorted = test.class_names;
  std::sort(sorted.begin(), sorted.end());
  for (uint8_t& l : renumbered.labels)
    l = static_cast<uint8_t>(std::find(sorted.begin(), sorted.end(), test.class_names[l]) -
                             sorted.begin());
  write_npz(f.dir.path / "clothes.npz", renumbered, renumbered, false);
  e = f.run("eval --json --model '" + model + "' --data '" + (f.dir.path / "clothes.npz").string() +
            "'");
  INFO(e.err);
  REQUIRE(e.exit_code == 0);
  CHECK(nlohmann::json::parse(e.out)["accuracy"] == j["accuracy"]);
  // predict prints class names.
  write_png(f.dir.path / "one.png", test.pixels.data(), 28, 28, 1);
  const CliResult p =
      f.run("predict --model '" + model + "' '" + (f.dir.path / "one.png").string() + "'");
  INFO(p.err);
  REQUIRE(p.exit_code == 0);
  bool named = false;
  for (const std::string& name : train.class_names)
    named |= p.out.find(": " + name + " (") != std::string::npos;
  CHECK(named);
}

TEST_CASE("data cli: predict --csv writes Kaggle's submission", "[data_cli]") {
  Fixture f;
  write_text(f.dir.path / "train.csv", csv_text(f.train));
  f.train_run("kaggle", cat({R"({"dataset": "kaggle_digits", "validation_split": 0.2, "path": )",
                             quoted_path(f.dir.path / "train.csv"), "}"}));
  write_text(f.dir.path / "test.csv", csv_text(f.test, false));
  const fs::path out = f.dir.path / "submission.csv";
  const CliResult r =
      f.run("predict --model '" + (f.dir.path / "runs" / "kaggle" / "model.mnn").string() +
            "' --csv '" + (f.dir.path / "test.csv").string() + "' --out '" + out.string() + "'");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string text = slurp(out);
  CHECK(text.starts_with("ImageId,Label\n1,0\n2,0\n"));
  CHECK(std::count(text.begin(), text.end(), '\n') == 201);
  // A bad row is one line naming the file, row and column, and nothing is written.
  write_text(f.dir.path / "bad.csv", "pixel0\n1\n");
  const CliResult bad =
      f.run("predict --model '" + (f.dir.path / "runs" / "kaggle" / "model.mnn").string() +
            "' --csv '" + (f.dir.path / "bad.csv").string() + "' --out '" +
            (f.dir.path / "bad_out.csv").string() + "'");
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("bad.csv: row 0: 1 pixel columns, data.image_shape [28, 28, 1] "
                               "needs 784"));
  CHECK_FALSE(fs::exists(f.dir.path / "bad_out.csv"));
}

TEST_CASE("data cli: a model whose output width differs from the classes is a clear error",
          "[data_cli]") {
  Fixture f;
  const fs::path run_dir = f.dir.path / "runs" / "wide";
  const CliResult r = f.run(
      "train -q --config '" +
      f.config("wide", cat({R"({"path": )", quoted_path(f.dir.path / "idx"), "}"}), 12).string() +
      "' --run-dir '" + run_dir.string() + "'");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("idx/train: the data has 10 classes but the model's last layer has "
                             "12 outputs"));
}
