// Keras's augmentation layers (RandomTranslation, RandomRotation, RandomZoom, RandomFlip,
// RandomCrop, RandomContrast, RandomBrightness) against hand-computed small images; the fill
// modes; where they run (the training pipeline only), determinism, exact resume, and the config
// errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>

#include "allocation_counter.h"
#include "cli_runner.h"
#include "config/augmentation_config.h"
#include "core/errors.h"
#include "data/augment_color.h"
#include "data/augment_warp.h"
#include "data/augmenter.h"
#include "data/pipeline.h"
#include "model/model_file.h"
#include "resume_fixture.h"

using namespace mnistnet;
using namespace mnistnet::testing;

namespace {

using Image = std::vector<float>;

// 1, 2, 3 ... rows*cols*channels, row-major [rows, cols, channels].
Image counting(int rows, int cols, int channels = 1) {
  Image v(static_cast<size_t>(rows * cols * channels));
  std::iota(v.begin(), v.end(), 1.0f);
  return v;
}

AugmentLayer layer(const std::string& json) {
  return parse_augmentation_layer(nlohmann::json::parse(json), "t.json", "/data/augmentation/0");
}

Image augmented(const std::string& json, Image image, int rows, int cols, int channels = 1,
                int64_t position = 0) {
  Augmenter a({layer(json)}, rows, cols, channels, 7);
  a.apply(image.data(), position);
  return image;
}

std::string config_error(const std::string& json) {
  try {
    parse_augmentation_layer(nlohmann::json::parse(json), "t.json", "/data/augmentation/0");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string load_error(const nlohmann::json& doc) {
  try {
    parse_config(doc, "aug.json");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

const Dataset& train_set() {
  static const Dataset d = synthetic_dataset(160, 8, 8);
  return d;
}

}  // namespace

TEST_CASE("Fill modes read outside the image as TensorFlow's ImageProjectiveTransform",
          "[augment]") {
  // reflect: d c b a | a b c d | d c b a
  CHECK(map_coordinate(-1, 4, FillMode::reflect) == 0);
  CHECK(map_coordinate(-2, 4, FillMode::reflect) == 1);
  CHECK(map_coordinate(-4, 4, FillMode::reflect) == 3);
  CHECK(map_coordinate(4, 4, FillMode::reflect) == 3);
  CHECK(map_coordinate(5, 4, FillMode::reflect) == 2);
  CHECK(map_coordinate(8, 4, FillMode::reflect) == 0);
  CHECK(map_coordinate(1.25, 4, FillMode::reflect) == 1.25);
  // nearest: a a | a b c d | d d
  CHECK(map_coordinate(-3, 4, FillMode::nearest) == 0);
  CHECK(map_coordinate(7.5, 4, FillMode::nearest) == 3);
  // wrap: a b c d | a b c d
  CHECK(map_coordinate(-1, 4, FillMode::wrap) == 3);
  CHECK(map_coordinate(4, 4, FillMode::wrap) == 0);
  CHECK(map_coordinate(6, 4, FillMode::wrap) == 2);
  // constant: left as it is; the read gives fill_value
  CHECK(map_coordinate(-3, 4, FillMode::constant) == -3);
}

TEST_CASE("RandomTranslation by one pixel is exact, with each fill mode", "[augment]") {
  const Image in = counting(4, 4);  // rows 1..4, 5..8, 9..12, 13..16
  // height_factor 0.25 of 4 rows: down one row; width 0.
  const std::string down = R"({"type": "RandomTranslation", "height_factor": [0.25, 0.25],
                               "width_factor": 0, )";
  CHECK(augmented(down + R"("fill_mode": "constant", "fill_value": -1})", in, 4, 4) ==
        Image{-1, -1, -1, -1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  CHECK(augmented(down + R"("fill_mode": "reflect"})", in, 4, 4) ==
        Image{1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  CHECK(augmented(down + R"("fill_mode": "nearest"})", in, 4, 4) ==
        Image{1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  CHECK(augmented(down + R"("fill_mode": "wrap"})", in, 4, 4) ==
        Image{13, 14, 15, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  // width_factor -0.25: left one column (negative = left, as Keras has it), nearest interpolation.
  CHECK(augmented(R"({"type": "RandomTranslation", "height_factor": 0,
                      "width_factor": [-0.25, -0.25], "fill_mode": "constant",
                      "interpolation": "nearest"})",
                  in, 4, 4) == Image{2, 3, 4, 0, 6, 7, 8, 0, 10, 11, 12, 0, 14, 15, 16, 0});
  // Half a pixel right: each value is the mean of its two neighbours (bilinear).
  const Image half = augmented(R"({"type": "RandomTranslation", "height_factor": 0,
                                   "width_factor": [0.125, 0.125], "fill_mode": "nearest"})",
                               in, 4, 4);
  CHECK(half[1] == 1.5f);
  CHECK(half[3] == 3.5f);
  CHECK(half[0] == 1.0f);
}

TEST_CASE("RandomRotation by a quarter turn turns the image counter-clockwise", "[augment]") {
  const Image in = counting(3, 3, 2);  // two channels, so the channel order is checked too
  const Image out = augmented(R"({"type": "RandomRotation", "factor": [0.25, 0.25]})", in, 3, 3, 2);
  // Counter-clockwise: the top-right pixel goes to the top-left; out[y][x] = in[x][n-1-y].
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 2; ++c)
        CHECK(out[static_cast<size_t>((y * 3 + x) * 2 + c)] ==
              Approx(in[static_cast<size_t>((x * 3 + (2 - y)) * 2 + c)]).margin(1e-5));
  // A half turn of a 4x4 reverses it.
  const Image half =
      augmented(R"({"type": "RandomRotation", "factor": [-0.5, -0.5]})", counting(4, 4), 4, 4);
  for (size_t k = 0; k < 16; ++k) CHECK(half[k] == Approx(16.0f - static_cast<float>(k)));
}

TEST_CASE("RandomZoom: a negative factor zooms in, a positive one out, about the centre",
          "[augment]") {
  const Image in = counting(5, 5);
  // -0.5: zoom 0.5, the output spans the middle 2.5 pixels: x_in = 0.5 x + 1.
  const Image in2 = augmented(R"({"type": "RandomZoom", "height_factor": [-0.5, -0.5]})", in, 5, 5);
  CHECK(in2[0] == in[6]);                            // (0, 0) reads (1, 1)
  CHECK(in2[24] == in[18]);                          // (4, 4) reads (3, 3)
  CHECK(in2[12] == in[12]);                          // the centre stays
  CHECK(in2[6] == Approx((7 + 8 + 12 + 13) / 4.0));  // (1, 1) reads (1.5, 1.5)
  // +1: zoom 2, x_in = 2 x - 2; the border reads outside (constant fill 0).
  const Image out = augmented(
      R"({"type": "RandomZoom", "height_factor": [1, 1], "fill_mode": "constant"})", in, 5, 5);
  CHECK(out[6] == in[0]);
  CHECK(out[8] == in[4]);
  CHECK(out[18] == in[24]);
  CHECK(out[0] == 0);
  // width_factor given: drawn apart; here the width does not zoom at all.
  const Image tall = augmented(
      R"({"type": "RandomZoom", "height_factor": [1, 1], "width_factor": [0, 0],
          "fill_mode": "constant"})",
      in, 5, 5);
  for (int x = 0; x < 5; ++x) {
    CHECK(tall[static_cast<size_t>(5 + x)] == in[static_cast<size_t>(x)]);
    CHECK(tall[static_cast<size_t>(x)] == 0);
  }
}

TEST_CASE("RandomFlip flips the axes its mode names, each with probability one half", "[augment]") {
  Image h = counting(2, 3);
  flip_image(h.data(), 2, 3, 1, true, false);
  CHECK(h == Image{3, 2, 1, 6, 5, 4});
  Image v = counting(2, 3);
  flip_image(v.data(), 2, 3, 1, false, true);
  CHECK(v == Image{4, 5, 6, 1, 2, 3});
  Image rgb = counting(1, 2, 3);
  flip_image(rgb.data(), 1, 2, 3, true, false);
  CHECK(rgb == Image{4, 5, 6, 1, 2, 3});  // pixels swap, channels stay in order

  const Image in = counting(2, 3);
  int flipped = 0;
  for (int64_t position = 0; position < 200; ++position) {
    const Image out =
        augmented(R"({"type": "RandomFlip", "mode": "horizontal"})", in, 2, 3, 1, position);
    CHECK((out == in || out == Image{3, 2, 1, 6, 5, 4}));
    flipped += out != in;
  }
  CHECK(flipped > 70);
  CHECK(flipped < 130);
  int both = 0;
  for (int64_t position = 0; position < 200; ++position)
    both +=
        augmented(R"({"type": "RandomFlip"})", in, 2, 3, 1, position) == Image{6, 5, 4, 3, 2, 1};
  CHECK(both > 25);  // horizontal_and_vertical: both flips a quarter of the time
  CHECK(both < 75);
}

TEST_CASE("RandomContrast and RandomBrightness follow Keras's formulas and value_range",
          "[augment]") {
  // Two channels: means 2.5 and 25.
  Image im{1, 10, 2, 20, 3, 30, 4, 40};
  adjust_contrast(im.data(), 4, 2, 2.0f, 0.0f, 35.0f);
  CHECK(im == Image{0, 0, 1.5f, 15, 3.5f, 35, 5.5f, 35});  // (x - mean) * 2 + mean, clipped
  Image b{0.1f, 0.5f, 0.95f};
  adjust_brightness(b.data(), 3, 0.1f, 0.0f, 1.0f);
  CHECK(b[0] == Approx(0.2f));
  CHECK(b[1] == Approx(0.6f));
  CHECK(b[2] == 1.0f);

  // The layer: factor 0.5 draws the contrast factor in [0.5, 1.5], one per image.
  const Image in{0.1f, 0.2f, 0.3f, 0.6f};
  const float mean = 0.3f;
  for (int64_t position = 0; position < 20; ++position) {
    const Image out =
        augmented(R"({"type": "RandomContrast", "factor": 0.5, "value_range": [0, 1]})", in, 2, 2,
                  1, position);
    const float k = (out[3] - mean) / (in[3] - mean);
    CHECK(k >= 0.5f - 1e-5f);
    CHECK(k <= 1.5f + 1e-5f);
    for (size_t i = 0; i < 4; ++i) CHECK(out[i] == Approx((in[i] - mean) * k + mean).margin(1e-6));
  }
  // RandomBrightness [0.25, 0.25] on value_range [0, 2] adds 0.25 * 2 = 0.5.
  const Image bright = augmented(
      R"({"type": "RandomBrightness", "factor": [0.25, 0.25], "value_range": [0, 2]})", in, 2, 2);
  CHECK(bright[0] == Approx(0.6f));
  CHECK(bright[3] == Approx(1.1f));
}

TEST_CASE("RandomCrop at the image's size is the identity, other sizes are refused",
          "[augment][config]") {
  const Image in = counting(4, 4);
  CHECK(augmented(R"({"type": "RandomCrop", "height": 4, "width": 4})", in, 4, 4) == in);
  nlohmann::json doc = resume_config_json(1);
  doc["data"]["augmentation"] = nlohmann::json::parse(R"([{"type": "RandomCrop",
                                                            "height": 6, "width": 6}])");
  CHECK(load_error(doc) ==
        "aug.json: /data/augmentation/0: RandomCrop to 6x6 must keep the model's input_shape "
        "[8, 8, 1] (the pipeline's augmentation keeps the image size, and Keras resizes rather "
        "than crops at inference); use RandomTranslation for shifted crops");
}

TEST_CASE("Augmentation arguments are checked with one-line messages", "[augment][config]") {
  CHECK(config_error(R"({"type": "RandomRotation", "factor": 0.1, "fill": "reflect"})")
            .starts_with("t.json: /data/augmentation/0/fill: unknown key"));
  CHECK(config_error(R"({"type": "RandomRotation", "factor": -0.1})") ==
        "t.json: /data/augmentation/0/factor: expected a number >= 0 (the range [-f, f]) or a "
        "pair [lower, upper], got -0.1");
  CHECK(config_error(R"({"type": "RandomTranslation", "height_factor": 1.5,
                         "width_factor": 0.1})") ==
        "t.json: /data/augmentation/0/height_factor: expected values in [-1.0, 1.0], got 1.5");
  CHECK(config_error(R"({"type": "RandomZoom", "height_factor": 0.5, "width_factor": 1.5})") ==
        "t.json: /data/augmentation/0/width_factor: expected values in [-1.0, 1.0], got 1.5");
  CHECK(config_error(R"({"type": "RandomZoom", "height_factor": [0.2, -0.1]})") ==
        "t.json: /data/augmentation/0/height_factor: the lower bound 0.2 is above the upper "
        "bound -0.1");
  CHECK(config_error(R"({"type": "RandomTranslation", "height_factor": 0.1})") ==
        "t.json: /data/augmentation/0/width_factor: missing; expected a number or a pair "
        "[lower, upper]");
  CHECK(config_error(R"({"type": "RandomFlip", "mode": "diagonal"})")
            .starts_with("t.json: /data/augmentation/0/mode: "));
  CHECK(config_error(R"({"type": "RandomRotation", "factor": 0.1, "fill_mode": "mirror"})")
            .starts_with("t.json: /data/augmentation/0/fill_mode: "));
  CHECK(config_error(R"({"type": "RandomContrast", "factor": 1.5})") ==
        "t.json: /data/augmentation/0/factor: the lower bound 1.5 would make the contrast factor "
        "1 - lower negative; expected <= 1");
  CHECK(config_error(R"({"type": "RandomBrightness", "factor": 0.2, "value_range": [1, 0]})") ==
        "t.json: /data/augmentation/0/value_range: expected [low, high] with low < high, got "
        "the list [1,0]");
  CHECK(config_error(R"({"type": "RandomRotation", "factor": 0.1, "seed": 3})")
            .starts_with("t.json: /data/augmentation/0/seed: augmentation draws from the "
                         "config's /seed"));
  for (const std::string& message :
       {config_error(R"({"type": "RandomRotation", "factor": 0.1, "fill": "reflect"})"),
        config_error(R"({"type": "RandomZoom", "height_factor": "big"})")})
    CHECK(message.find('\n') == std::string::npos);
}

TEST_CASE("Random* layers opening /model/layers become the pipeline's augmentation",
          "[augment][config]") {
  nlohmann::json doc = resume_config_json(1);
  auto& layers = doc["model"]["layers"];
  layers.insert(layers.begin(), nlohmann::json::parse(R"({"type": "RandomRotation",
                                                          "factor": 0.05})"));
  layers.insert(layers.begin(), nlohmann::json::parse(R"({"type": "RandomTranslation",
                                                          "height_factor": 0.1,
                                                          "width_factor": 0.1})"));
  const Config c = parse_config(doc, "aug.json");
  REQUIRE(c.data.augmentation.size() == 2);
  CHECK(c.data.augmentation[0].kind == AugmentKind::translation);
  CHECK(c.data.augmentation[0].lower == -0.1);
  CHECK(c.data.augmentation[1].kind == AugmentKind::rotation);
  CHECK(c.data.augmentation[1].pointer == "/model/layers/1");
  CHECK(c.model.layers.size() == 7);  // the model itself, as without augmentation
  CHECK(c.model.layers[0].type == "Conv2D");
  CHECK(training_pipeline_spec(c).augmentation.size() == 2);
  // The model (and its file, export and serving) has no trace of them.
  Model model = Model::build(c.model, 1);
  CHECK(model_spec_to_json(model.spec()).dump().find("Random") == std::string::npos);

  // After a normal layer: refused.
  nlohmann::json late = resume_config_json(1);
  late["model"]["layers"].insert(late["model"]["layers"].begin() + 1,
                                 nlohmann::json::parse(R"({"type": "RandomFlip"})"));
  CHECK(load_error(late) ==
        "aug.json: /model/layers/1/type: RandomFlip must come before every other layer "
        "(augmentation runs in the input pipeline, ahead of the model), but /model/layers/0 "
        "(Conv2D) is before it");
  // In both places: refused.
  doc["data"]["augmentation"] = nlohmann::json::parse(R"([{"type": "RandomFlip"}])");
  CHECK(load_error(doc) ==
        "aug.json: /data/augmentation: augmentation is given here and as RandomTranslation at "
        "/model/layers/0; give it in one place");
  // Only augmentation layers: no model.
  nlohmann::json only = resume_config_json(1);
  only["model"]["layers"] = nlohmann::json::parse(R"([{"type": "RandomFlip"}])");
  CHECK(load_error(only) ==
        "aug.json: /model/layers: expected at least one layer after the augmentation layers");
  // /data/augmentation takes augmentation layers only.
  nlohmann::json wrong = resume_config_json(1);
  wrong["data"]["augmentation"] = nlohmann::json::parse(R"([{"type": "Dense", "units": 3}])");
  CHECK(load_error(wrong).starts_with(
      "aug.json: /data/augmentation/0/type: \"Dense\" is not an augmentation layer"));
}

namespace {

const std::vector<std::string> kAugment = {
    R"(data.augmentation=[{"type": "RandomTranslation", "height_factor": 0.15,
       "width_factor": 0.15, "fill_mode": "constant"},
       {"type": "RandomRotation", "factor": 0.05}, {"type": "RandomZoom", "height_factor": 0.1},
       {"type": "RandomFlip", "mode": "horizontal"}, {"type": "RandomContrast", "factor": 0.2,
       "value_range": [0, 1]}, {"type": "RandomBrightness", "factor": 0.1,
       "value_range": [0, 1]}])"};

std::vector<Image> batches(Pipeline& pipeline, int n) {
  std::vector<Image> out;
  for (int i = 0; i < n; ++i) {
    const Batch b = *pipeline.next();
    out.emplace_back(b.images, b.images + b.size * pipeline.example_size());
  }
  return out;
}

}  // namespace

TEST_CASE("Augmented batches depend on the seed alone, not on prefetch or thread timing",
          "[augment][pipeline]") {
  const Config c = resume_config(5, kAugment);
  PipelineSpec spec = training_pipeline_spec(c);
  REQUIRE(spec.augmentation.size() == 6);
  spec.prefetch = 0;
  Pipeline plain(train_set(), spec);
  const std::vector<Image> reference = batches(plain, 25);  // 2.5 passes
  spec.prefetch = 3;
  Pipeline ahead(train_set(), spec);
  CHECK(batches(ahead, 25) == reference);

  PipelineSpec none = training_pipeline_spec(resume_config(5));
  none.prefetch = 0;
  Pipeline unaugmented(train_set(), none);
  const std::vector<Image> raw = batches(unaugmented, 25);
  CHECK(raw != reference);
  // The same examples in the same order: augmentation draws nothing from the shuffle's stream.
  spec.prefetch = 0;
  Pipeline augmented_again(train_set(), spec);
  Pipeline unaugmented_again(train_set(), none);
  for (int i = 0; i < 25; ++i) {
    const Batch a = *augmented_again.next(), b = *unaugmented_again.next();
    CHECK(std::vector<uint32_t>(a.indices, a.indices + a.size) ==
          std::vector<uint32_t>(b.indices, b.indices + b.size));
  }

  PipelineSpec other = training_pipeline_spec(resume_config(6, kAugment));
  other.prefetch = 0;
  other.seed = spec.seed;  // the same order, another augmentation seed
  Pipeline reseeded(train_set(), other);
  CHECK(batches(reseeded, 25) != reference);
}

TEST_CASE("A pipeline resumed from its stream state draws the same augmented images",
          "[augment][pipeline][resume]") {
  const PipelineSpec spec = training_pipeline_spec(resume_config(5, kAugment));
  Pipeline original(train_set(), spec);
  batches(original, 13);
  const IndexStreamState state = original.stream_state();
  CHECK(state.emitted == 13 * 16);
  Pipeline resumed(train_set(), spec, &state);
  CHECK(batches(resumed, 12) == batches(original, 12));
}

TEST_CASE("Training with augmentation, stopped and resumed, ends byte-identical",
          "[augment][resume]") {
  std::vector<std::string> overrides = kAugment;
  overrides.push_back("training.checkpoint.save_freq=4");
  const Config c = resume_config(21, overrides);
  auto run = [&](const std::filesystem::path& dir, int64_t stop_at) {
    if (stop_at > 0) {
      Model model = Model::build(c.model, Rng::derive(c.seed, 1));
      StopAtStep stop(stop_at);
      const FitResult r = fit(model, train_set(), synthetic_dataset(40, 8, 8), c, {&stop},
                              {.run_dir = dir, .run_name = "t", .stop_request = &stop.flag});
      REQUIRE(r.interrupted_by == 2);
      const Checkpoint checkpoint = read_checkpoint(list_checkpoints(dir).back());
      Model resumed = Model::build(c.model, Rng::derive(c.seed + 1000, 1));
      fit(resumed, train_set(), synthetic_dataset(40, 8, 8), c, {},
          {.run_dir = dir, .run_name = "t", .resume = &checkpoint});
      return weights_of(resumed);
    }
    Model model = Model::build(c.model, Rng::derive(c.seed, 1));
    fit(model, train_set(), synthetic_dataset(40, 8, 8), c, {}, {.run_dir = dir, .run_name = "t"});
    return weights_of(model);
  };
  TempDir reference_dir;
  const auto reference = run(reference_dir.path, 0);
  // The same without augmentation differs: the augmentation did reach the training.
  {
    const Config plain = resume_config(21, {"training.checkpoint.save_freq=4"});
    Model model = Model::build(plain.model, Rng::derive(plain.seed, 1));
    fit(model, train_set(), synthetic_dataset(40, 8, 8), plain, {});
    CHECK(weights_of(model) != reference);
  }
  for (const int64_t stop_at : {int64_t{5}, int64_t{11}, int64_t{23}}) {
    INFO("stopped after step " << stop_at);
    TempDir dir;
    CHECK(run(dir.path, stop_at) == reference);
  }
}

TEST_CASE("Evaluation ignores the augmentation: it is the training pipeline's alone", "[augment]") {
  const Config c = resume_config(5, kAugment);
  Model model = Model::build(c.model, 3);
  const Dataset test = synthetic_dataset(40, 8, 8);
  const Evaluation a = evaluate(model, test, 16, 1.0f / 256);
  const Config plain = resume_config(5);
  Model same = Model::build(plain.model, 3);
  const Evaluation b = evaluate(same, test, 16, 1.0f / 256);
  CHECK(a.loss == b.loss);
  CHECK(a.accuracy == b.accuracy);
  // And predict: the model's forward pass has no augmentation in it.
  Image x(64, 0.5f);
  const float* y1 = model.predict(x.data(), 1);
  const Image first(y1, y1 + 10);
  const float* y2 = same.predict(x.data(), 1);
  CHECK(Image(y2, y2 + 10) == first);
}

TEST_CASE("The augmenting pipeline allocates nothing per batch", "[augment][steady_state]") {
  PipelineSpec spec = training_pipeline_spec(resume_config(5, kAugment));
  for (const int prefetch : {0, 2}) {
    spec.prefetch = prefetch;
    Pipeline pipeline(train_set(), spec);
    for (int i = 0; i < 3; ++i) pipeline.next();
    const uint64_t before = allocation_count();
    for (int i = 0; i < 20; ++i) pipeline.next();
    CHECK(allocation_count() == before);
  }
}

TEST_CASE("The shipped augmentation configs: conv_bn_aug is conv_bn plus its augmentation",
          "[augment][configs]") {
  const std::filesystem::path configs = std::filesystem::path(MNISTNET_SOURCE_DIR) / "configs";
  const Config plain = load_config((configs / "conv_bn.json").string());
  const Config aug = load_config((configs / "conv_bn_aug.json").string());
  REQUIRE(aug.data.augmentation.size() == 3);
  CHECK(aug.data.augmentation[0].kind == AugmentKind::translation);
  CHECK(aug.data.augmentation[1].kind == AugmentKind::rotation);
  CHECK(aug.data.augmentation[2].kind == AugmentKind::zoom);
  CHECK(aug.training.epochs == plain.training.epochs);
  // The same layers, once Reshape is left out (conv_bn's input is flat, conv_bn_aug's an image).
  std::vector<std::string> a, b;
  for (const LayerSpec& l : plain.model.layers)
    if (l.type != "Reshape") a.push_back(l.args.dump());
  for (const LayerSpec& l : aug.model.layers) b.push_back(l.args.dump());
  CHECK(a == b);
  for (const char* name : {"mnist_best.json", "fashion_best.json"}) {
    const Config c = load_config((configs / name).string());
    CHECK(!c.data.augmentation.empty());
    CHECK(c.training.early_stopping.enabled == false);  // nothing chosen on the test set
    CHECK(c.training.best_model.enabled == false);
  }
}

TEST_CASE("summary says where the augmentation layers went", "[augment][cli]") {
  TempDir dir;
  const std::string config =
      (std::filesystem::path(MNISTNET_SOURCE_DIR) / "configs" / "conv_bn_aug.json").string();
  const CliResult text = run_cli("summary -c '" + config + "'", dir.path);
  REQUIRE(text.exit_code == 0);
  CHECK(
      text.out.ends_with("Augmentation (the training input pipeline, not in the model): "
                         "RandomTranslation, RandomRotation, RandomZoom\n"));
  CHECK(text.out.find("Random", 0) == text.out.find("Augmentation (") + 62);  // none in the table
  const CliResult json = run_cli("summary --json -c '" + config + "'", dir.path);
  REQUIRE(json.exit_code == 0);
  CHECK(nlohmann::json::parse(json.out)["augmentation"] ==
        nlohmann::json({"RandomTranslation", "RandomRotation", "RandomZoom"}));
}
