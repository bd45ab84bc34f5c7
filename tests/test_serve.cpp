// mnistnet serve's parts without the network: the request parser (every example form, every
// client mistake as a 4xx naming its JSON pointer), base64, the answers' JSON, the metrics text,
// and the dynamic batcher, whose batched answers must equal unbatched inference bit for bit
// wherever OpenBLAS computes a row the same in a batch as alone (else to 1e-6).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "cli_runner.h"
#include "config/config_loader.h"
#include "core/blas.h"
#include "image/digit_preprocess.h"
#include "image/resize.h"
#include "image_test_files.h"
#include "model/model_file.h"
#include "serve/base64.h"
#include "serve/batcher.h"
#include "serve/metrics.h"
#include "serve/model_store.h"
#include "serve/request_parser.h"
#include "serve/responses.h"
#include "synthetic_idx.h"

using namespace mnistnet;
using namespace mnistnet::testing;
using Catch::Contains;

namespace {

const InputSignature kImages = make_input_signature({28, 28, 1}, {});

std::string pixels_json(int rows, int cols, int value) {
  nlohmann::json img = nlohmann::json::array();
  for (int r = 0; r < rows; ++r) img.push_back(std::vector<int>(static_cast<size_t>(cols), value));
  return img.dump();
}

std::string encode_base64(const std::vector<uint8_t>& bytes) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t v = static_cast<uint32_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint32_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= bytes[i + 2];
    out += a[(v >> 18) & 63];
    out += a[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? a[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? a[v & 63] : '=';
  }
  return out;
}

// The 400 message of a predict body.
std::string predict_error(const std::string& body, int status = 400) {
  try {
    parse_predict_request(body, kImages);
  } catch (const RequestError& e) {
    CHECK(e.status() == status);
    return e.what();
  }
  FAIL("no error for " << body.substr(0, 80));
  return "";
}

const char* kConvBn = R"({"input_shape": [784], "layers": [
    {"type": "Reshape", "target_shape": [28, 28, 1]},
    {"type": "Conv2D", "filters": 6, "kernel_size": 5, "strides": 2, "padding": "same",
     "use_bias": false},
    {"type": "BatchNormalization", "center": true, "scale": false},
    {"type": "Activation", "activation": "relu"},
    {"type": "Flatten"},
    {"type": "Dense", "units": 32, "use_bias": false},
    {"type": "BatchNormalization", "center": true, "scale": false},
    {"type": "Activation", "activation": "relu"},
    {"type": "Dense", "units": 10, "activation": "softmax"}]})";

}  // namespace

TEST_CASE("serve parser: an example nested, without its trailing 1, or flat", "[serve]") {
  const std::string nested3 = [] {
    nlohmann::json img = nlohmann::json::array();
    for (int r = 0; r < 28; ++r) {
      nlohmann::json row = nlohmann::json::array();
      for (int c = 0; c < 28; ++c) row.push_back({r * 28 + c < 256 ? r * 28 + c : 255});
      img.push_back(row);
    }
    return img.dump();
  }();
  std::vector<int> flat(784);
  for (int i = 0; i < 784; ++i) flat[static_cast<size_t>(i)] = i < 256 ? i : 255;
  const std::string body = "{\"instances\": [" + nested3 + ", " + pixels_json(28, 28, 7) + ", " +
                           nlohmann::json(flat).dump() +
                           ", {\"images\": " + pixels_json(28, 28, 9) + "}]}";
  const ExampleBatch b = parse_predict_request(body, kImages);
  REQUIRE(b.count == 4);
  REQUIRE(b.format == RequestFormat::row);
  REQUIRE(b.pixels.size() == 4 * 784);
  for (size_t i = 0; i < 784; ++i) {
    CHECK(b.pixels[i] == static_cast<float>(flat[i]));
    CHECK(b.pixels[784 * 2 + i] == static_cast<float>(flat[i]));
  }
  CHECK(b.pixels[784 + 100] == 7.0f);
  CHECK(b.pixels[784 * 3 + 5] == 9.0f);

  const ExampleBatch c = parse_predict_request(
      "{\"inputs\": {\"images\": [" + pixels_json(28, 28, 3) + "]}, \"signature_name\": \"\"}",
      kImages);
  CHECK(c.format == RequestFormat::columnar);
  CHECK(c.count == 1);
  const ExampleBatch d =
      parse_predict_request("{\"inputs\": [" + pixels_json(28, 28, 3) + "]}", kImages);
  CHECK(d.count == 1);
  CHECK(d.pixels == c.pixels);

  // conv_bn's input_shape is [784] (reshaped inside): it takes the image's shapes all the same.
  const InputSignature flat784 = make_input_signature({784}, {});
  const ExampleBatch e = parse_predict_request(
      "{\"instances\": [" + pixels_json(28, 28, 3) + ", " + nested3 + "]}", flat784);
  CHECK(e.count == 2);
  CHECK(std::equal(e.pixels.begin(), e.pixels.begin() + 784, c.pixels.begin()));
  CHECK(std::equal(e.pixels.begin() + 784, e.pixels.end(), b.pixels.begin()));
}

TEST_CASE("serve parser: {\"b64\": PNG} gets predict's preprocessing", "[serve]") {
  TempDir dir;
  const RawImage ring = draw_glyph(120, 90, {40, 10, 45, 70}, Glyph::kRing, 20, 235);
  write_image(dir.path / "ring.png", ring);
  const std::string png = slurp(dir.path / "ring.png");
  const std::vector<uint8_t> bytes(png.begin(), png.end());
  const ExampleBatch b = parse_predict_request(
      "{\"instances\": [{\"b64\": \"" + encode_base64(bytes) + "\"}]}", kImages);
  REQUIRE(b.count == 1);
  const DigitImage expected = preprocess_digit(read_grey_image(dir.path / "ring.png"), "ring");
  for (size_t i = 0; i < 784; ++i) REQUIRE(b.pixels[i] == static_cast<float>(expected.pixels[i]));

  CHECK_THAT(predict_error("{\"instances\": [{\"b64\": \"aGVsbG8gd29ybGQ=\"}]}"),
             Contains("/instances/0/b64: not a readable image"));
  CHECK_THAT(predict_error("{\"instances\": [{\"b64\": \"a$b=\"}]}"),
             Contains("/instances/0/b64: invalid base64: character 1"));
  CHECK_THAT(predict_error("{\"instances\": [{\"b64\": 5}]}"),
             Contains("/instances/0/b64: expected a base64 string, got a number"));
  const InputSignature dense = make_input_signature({100}, {});
  try {
    parse_predict_request("{\"instances\": [{\"b64\": \"AAAA\"}]}", dense);
    FAIL("a b64 image for a 100-input model");
  } catch (const RequestError& e) {
    CHECK_THAT(e.what(), Contains("takes [100] inputs, not images"));
  }
}

TEST_CASE("serve parser: {\"b64\"} images of a resize model are resized, not digit-prepared",
          "[serve]") {
  TempDir dir;
  const RawImage ring = draw_glyph(120, 90, {40, 10, 45, 70}, Glyph::kRing, 20, 235);
  write_image(dir.path / "ring.png", ring);
  const std::string png = slurp(dir.path / "ring.png");
  const std::vector<uint8_t> bytes(png.begin(), png.end());
  const std::string body = "{\"instances\": [{\"b64\": \"" + encode_base64(bytes) + "\"}]}";
  for (const Shape& shape : {Shape{28, 28, 1}, Shape{32, 24, 3}}) {
    INFO(shape_string(shape));
    const ImagePreparation resize{ImagePreprocessing::resize, shape};
    const ExampleBatch b = parse_predict_request(body, make_input_signature(shape, resize));
    REQUIRE(b.count == 1);
    const PixelImage decoded = decode_image(bytes, "ring", static_cast<int>(shape[2]));
    const std::vector<uint8_t> expected =
        resize_image(decoded.pixels.data(), decoded.width, decoded.height, decoded.channels,
                     static_cast<int>(shape[1]), static_cast<int>(shape[0]));
    REQUIRE(b.pixels.size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i)
      REQUIRE(b.pixels[i] == static_cast<float>(expected[i]));
  }
  // A digit model's preparation needs 28x28 inputs; a resize model's images must be its input.
  CHECK_FALSE(make_input_signature({32, 24, 3}, {}).takes_images());
  CHECK_FALSE(
      make_input_signature({28, 28, 1}, {ImagePreprocessing::resize, {32, 24, 3}}).takes_images());
}

TEST_CASE("serve and predict agree on a model whose images are not its input", "[serve]") {
  TempDir dir;
  write_image(dir.path / "ring.png", draw_glyph(60, 60, {10, 10, 30, 40}, Glyph::kRing, 0, 255));
  const auto dense_of = [](int inputs) {
    return R"({"input_shape": [)" + std::to_string(inputs) +
           R"(], "layers": [{"type": "Dense", "units": 10, "activation": "softmax"}]})";
  };
  const auto check = [&](int inputs, const ImagePreparation& image, const std::string& reason) {
    INFO(reason);
    const auto path = dir.path / ("m" + std::to_string(inputs) + ".mnn");
    {
      Model m =
          Model::build(parse_model_spec(nlohmann::json::parse(dense_of(inputs)), "t", "/model"), 3);
      ModelMeta meta{"t", "mnist", 256.0, 10000, {}};
      meta.image = image;
      save_model(path, m, meta);
    }
    const CliResult predicted = run_cli(
        "predict --model '" + path.string() + "' '" + (dir.path / "ring.png").string() + "'",
        dir.path);
    CHECK(predicted.exit_code == 2);
    CHECK_THAT(predicted.err, Contains(path.string() + ": " + reason));

    ServeMetrics metrics(16);
    ModelStore store(path, metrics);
    const std::shared_ptr<ServedModel> loaded = store.current();
    const InputSignature& served = loaded->signature;
    CHECK_FALSE(served.takes_images());
    CHECK(served.image_mismatch == reason);
    CHECK_THROWS_WITH(parse_predict_request(R"({"instances": [{"b64": "AAAA"}]})", served),
                      Contains("inputs, not images; send the pixels"));
    // Its pixels are still served.
    const std::string pixels =
        nlohmann::json(std::vector<int>(static_cast<size_t>(inputs), 7)).dump();
    CHECK(parse_predict_request("{\"instances\": [" + pixels + "]}", served).count == 1);
  };
  check(784, {ImagePreprocessing::resize, {32, 32, 1}},
        "the model's images are [32, 32, 1] but its input_shape [784] takes 784 values");
  check(1024, {ImagePreprocessing::digits, {32, 32, 1}},
        "a digit model must take 28x28 images (784 inputs); this one takes [1024]");
}

TEST_CASE("serve parser: each client mistake is a 400 naming where", "[serve]") {
  CHECK_THAT(predict_error("{\"instances\": [1, 2"), Contains("JSON Parse error"));
  CHECK_THAT(predict_error("[1, 2]"), Contains("must be a JSON object, got an array"));
  CHECK_THAT(predict_error("{}"), Contains("needs \"instances\" (row format) or \"inputs\""));
  CHECK_THAT(predict_error("{\"instances\": [], \"inputs\": []}"), Contains("both"));
  CHECK_THAT(predict_error("{\"instance\": []}"), Contains("/instance: unknown key"));
  CHECK_THAT(predict_error("{\"instances\": []}"), Contains("/instances: no examples"));
  CHECK_THAT(predict_error("{\"instances\": 5}"),
             Contains("/instances: expected a list of examples, got a number"));
  CHECK_THAT(predict_error("{\"instances\": [" + pixels_json(28, 27, 0) + "]}"),
             Contains("/instances/0: an example of shape [28, 27]; the model takes [28, 28, 1], "
                      "[28, 28] or [784]"));
  CHECK_THAT(predict_error("{\"instances\": [[1, 2, 3]]}"), Contains("shape [3]"));
  std::string ragged = pixels_json(28, 28, 0);
  ragged.replace(ragged.rfind(",0]"), 2, "");  // the last row one short
  CHECK_THAT(predict_error("{\"instances\": [" + ragged + "]}"),
             Contains("/instances/0/27: expected an array of 28"));
  std::string bad_pixel = pixels_json(28, 28, 0);
  bad_pixel.replace(bad_pixel.rfind('0'), 1, "\"x\"");
  CHECK_THAT(predict_error("{\"instances\": [" + bad_pixel + "]}"),
             Contains("/instances/0/27/27: expected a pixel value 0..255, got a string"));
  std::string big = pixels_json(28, 28, 0);
  big.replace(big.find('0', 100), 1, "256");
  CHECK_THAT(predict_error("{\"instances\": [" + big + "]}"),
             Contains("pixel value 256 is outside 0..255"));
  std::string nan = pixels_json(28, 28, 0);
  nan.replace(nan.find('0', 100), 1, "NaN");
  CHECK_THAT(predict_error("{\"instances\": [" + nan + "]}"),
             Contains("NaN and Infinity are not pixel values"));
  std::string inf = pixels_json(28, 28, 0);
  const size_t inf_at = inf.find('0', 100);
  inf.replace(inf_at, 1, "1e999");
  CHECK_THAT(predict_error("{\"instances\": [" + inf + "]}"),
             Contains("JSON Parse error: byte " + std::to_string(15 + inf_at) +
                      ": a number too large for a pixel (0..255)"));
  CHECK_THAT(predict_error("{\"instances\": [{\"image\": [1]}]}"),
             Contains("/instances/0: expected an array of pixels, {\"b64\": image} or "
                      "{\"images\": ...}; got an object with keys \"image\""));
  CHECK_THAT(predict_error("{\"inputs\": {\"x\": []}}"),
             Contains("/inputs: the model has one input, \"images\""));
  CHECK_THAT(predict_error("{\"signature_name\": \"other\", \"instances\": [1]}"),
             Contains("Serving signature name: \"other\" not found"));
  CHECK_THAT(predict_error("{\"instances\": [true]}"), Contains("got a boolean"));
}

TEST_CASE("serve parser: classify's examples", "[serve]") {
  const ExampleBatch b =
      parse_classify_request("{\"examples\": [{\"x\": " + pixels_json(28, 28, 1) +
                                 "}, {\"images\": " + pixels_json(28, 28, 2) + "}]}",
                             kImages);
  CHECK(b.count == 2);
  CHECK(b.pixels[784] == 2.0f);
  auto error = [](const std::string& body) {
    try {
      parse_classify_request(body, kImages);
    } catch (const RequestError& e) {
      CHECK(e.status() == 400);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(error("{\"examples\": [{}]}"), Contains("/examples/0: expected an object with one "
                                                     "feature"));
  CHECK_THAT(error("{\"examples\": [{\"x\": [1]}], \"context\": {}}"), Contains("/context"));
  CHECK_THAT(error("{\"instances\": []}"), Contains("/instances: unknown key"));
  CHECK_THAT(error("{\"examples\": [{\"x\": [1]}]}"), Contains("/examples/0/x: an example of "));
}

TEST_CASE("serve: base64 strictly", "[serve]") {
  CHECK(decode_base64("aGVsbG8=").bytes == std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o'});
  CHECK(decode_base64("aGVsbG8").bytes == std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o'});
  CHECK(decode_base64("aGk=").bytes == std::vector<uint8_t>{'h', 'i'});
  CHECK(decode_base64("").bytes.empty());
  CHECK(decode_base64("").error.empty());
  CHECK(decode_base64("aGVsb").error == "character 4: a lone trailing character");
  CHECK(decode_base64("aG=sbG8=").error == "character 2: not base64");
  CHECK(decode_base64("aGVsbG8==").error == "character 7: padding '=' where none belongs");
}

TEST_CASE("serve: answers in TensorFlow Serving's JSON", "[serve]") {
  const float p[4] = {0.25f, 0.75f, 0.1f, 0.9f};
  const auto row = nlohmann::json::parse(predict_json(p, 2, 2, RequestFormat::row));
  CHECK(row["predictions"][1][1].get<float>() == 0.9f);
  const auto col = nlohmann::json::parse(predict_json(p, 2, 2, RequestFormat::columnar));
  CHECK(col["outputs"][0][0].get<float>() == 0.25f);
  CHECK(nlohmann::json::parse(error_json("a \"b\""))["error"] == "a \"b\"");

  ServeMetrics m(64);
  m.count_request("predict", 200, 0.002);
  m.count_request("predict", 400, 0.0001);
  m.observe_batch(3);
  m.set_model_version(2);
  const std::string text = m.render();
  CHECK_THAT(text, Contains("mnistnet_requests_total{endpoint=\"predict\",code=\"400\"} 1"));
  CHECK_THAT(text, Contains("mnistnet_request_duration_seconds_bucket{le=\"0.0025\"} 2"));
  CHECK_THAT(text, Contains("mnistnet_request_duration_seconds_bucket{le=\"0.001\"} 1"));
  CHECK_THAT(text, Contains("mnistnet_batch_size_bucket{le=\"2\"} 0"));
  CHECK_THAT(text, Contains("mnistnet_batch_size_bucket{le=\"4\"} 1"));
  CHECK_THAT(text, Contains("mnistnet_batch_size_count 1"));
  CHECK_THAT(text, Contains("mnistnet_model_version 2"));
}

namespace {

// Whether OpenBLAS computes each row of this model's products the same in a batch as alone.
// Its Cooperlake and SkylakeX kernels do at this model's sizes; its Haswell kernels (a
// machine-wide OPENBLAS_CORETYPE=Haswell is enough) give a row other bits from 4 rows on, and
// so do the Cooperlake ones for a 3136 x 200 Dense. Where they do not, batching can change the
// last bits of an answer, and the batcher is held to 1e-6 instead.
bool rows_batch_invariant(Model& m) {
  constexpr int64_t n = 16;
  std::vector<float> x(n * 784);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37) % 256) / 256.0f;
  const float* batched = m.predict(x.data(), n);
  const std::vector<float> together(batched, batched + n * 10);
  for (int64_t e = 0; e < n; ++e) {
    const float* alone = m.predict(x.data() + e * 784, 1);
    if (std::memcmp(alone, together.data() + e * 10, 10 * sizeof(float)) != 0) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("serve batcher: batched answers equal unbatched inference bit for bit", "[serve]") {
  TempDir dir;
  {
    Model m = Model::build(parse_model_spec(nlohmann::json::parse(kConvBn), "t", "/model"), 3);
    save_model(dir.path / "m.mnn", m, {"t", "mnist", 256.0, 10000, {}});
  }
  ServeMetrics metrics(16);
  ModelStore store(dir.path / "m.mnn", metrics);
  LoadedModel reference = load_model(dir.path / "m.mnn");
  const bool exact = rows_batch_invariant(reference.model);
  if (!exact)
    WARN("OpenBLAS's " << blas_core_name()
                       << " kernels give a row other bits in a batch: comparing to 1e-6");
  constexpr int kRequests = 40;
  std::vector<std::vector<float>> pixels(kRequests);
  std::vector<std::vector<float>> expected(kRequests);
  for (int r = 0; r < kRequests; ++r) {
    const int count = 1 + r % 5;
    for (int i = 0; i < count * 784; ++i)
      pixels[static_cast<size_t>(r)].push_back(static_cast<float>((r * 131 + i * 17) % 256));
    // Unbatched: each example alone through the model, scaled as predict scales.
    for (int e = 0; e < count; ++e) {
      std::vector<float> x(784);
      for (int i = 0; i < 784; ++i)
        x[static_cast<size_t>(i)] =
            pixels[static_cast<size_t>(r)][static_cast<size_t>(e * 784 + i)] *
            static_cast<float>(1.0 / 256.0);
      const float* y = reference.model.predict(x.data(), 1);
      expected[static_cast<size_t>(r)].insert(expected[static_cast<size_t>(r)].end(), y, y + 10);
    }
  }
  auto timeout = GENERATE(0, 2000);
  DynamicBatcher batcher({16, std::chrono::microseconds(timeout)}, metrics);
  std::vector<std::thread> clients;
  std::vector<std::vector<float>> got(kRequests);
  for (int r = 0; r < kRequests; ++r) {
    clients.emplace_back([&, r] {
      BatchJob job;
      job.model = store.current();
      job.pixels = pixels[static_cast<size_t>(r)].data();
      job.count = 1 + r % 5;
      job.outputs.resize(static_cast<size_t>(job.count * 10));
      batcher.run(job);
      got[static_cast<size_t>(r)] = job.outputs;
    });
  }
  for (auto& t : clients) t.join();
  for (int r = 0; r < kRequests; ++r) {
    const auto& a = got[static_cast<size_t>(r)];
    const auto& b = expected[static_cast<size_t>(r)];
    REQUIRE(a.size() == b.size());
    if (exact) {
      CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
    } else {
      for (size_t i = 0; i < a.size(); ++i) CHECK(std::fabs(a[i] - b[i]) <= 1e-6f);
    }
  }
  const std::string text = metrics.render();
  std::smatch m;
  REQUIRE(std::regex_search(text, m, std::regex("mnistnet_batch_size_count ([0-9]+)")));
  INFO(text);
  // 40 requests at once, 2 ms to gather: some forward passes ran several requests together.
  if (timeout > 0) CHECK(std::stoi(m[1]) < kRequests);
}
