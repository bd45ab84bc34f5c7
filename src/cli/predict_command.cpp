// mnistnet predict: the digit in each image file, by a saved 28x28 model.
//
// Every image is decoded and normalised first (src/image: MNIST's own preprocessing), then the
// model sees them in batches of up to kBatch. A bad image is one error line on stderr and does
// not stop the others; the exit code is then 2.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <new>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "cli/latest_run.h"
#include "core/denormals.h"
#include "core/errors.h"
#include "core/shape.h"
#include "image/digit_preprocess.h"
#include "image/image_decoder.h"
#include "image/png_writer.h"
#include "model/model_file.h"

namespace mnistnet {
namespace fs = std::filesystem;

namespace {

constexpr int64_t kBatch = 1000;  // images per model.predict call: 3 MiB of input
constexpr int64_t kTop = 3;

struct Guess {
  int64_t digit;
  float probability;
};

struct ImageResult {
  std::string file;        // as given on the command line
  std::string error;       // empty when the image was predicted
  DigitImage input;        // what the model sees
  std::vector<Guess> top;  // best first
};

void print_error(const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "mnistnet: error: %s\n", message.c_str());
}

void check_model_takes_digits(const Model& model, const fs::path& path) {
  if (model.input_size() != kDigitPixels) {
    throw UserError(path.string() + ": predict needs a model of 28x28 images (" +
                    std::to_string(kDigitPixels) + " inputs); this one takes " +
                    shape_string(model.input_shape()));
  }
}

// The model's outputs for one example -> probabilities. A model without a final softmax
// outputs logits, which the training loss turned into probabilities the same way.
std::vector<float> probabilities(const float* outputs, int64_t n, bool already) {
  std::vector<float> p(outputs, outputs + n);
  if (already) return p;
  const float top = *std::max_element(p.begin(), p.end());
  double sum = 0.0;
  for (float& v : p) sum += (v = std::exp(v - top));
  for (float& v : p) v = static_cast<float>(v / sum);
  return p;
}

std::vector<Guess> top_guesses(const std::vector<float>& p) {
  std::vector<Guess> all;
  for (size_t i = 0; i < p.size(); ++i) all.push_back({static_cast<int64_t>(i), p[i]});
  const auto k = static_cast<std::ptrdiff_t>(std::min<size_t>(kTop, all.size()));
  std::partial_sort(all.begin(), all.begin() + k, all.end(), [](const Guess& a, const Guess& b) {
    return a.probability > b.probability || (a.probability == b.probability && a.digit < b.digit);
  });
  all.resize(static_cast<size_t>(k));
  return all;
}

// Fills each readable image's top guesses; inputs are byte / pixel_divisor, as in training.
void predict_all(Model& model, double pixel_divisor, std::vector<ImageResult*>& images) {
  const int64_t outputs = model.num_outputs();
  const auto scale = static_cast<float>(1.0 / pixel_divisor);
  std::vector<float> x;
  for (size_t start = 0; start < images.size(); start += static_cast<size_t>(kBatch)) {
    const size_t count = std::min(images.size() - start, static_cast<size_t>(kBatch));
    x.resize(count * kDigitPixels);  // [count, 784]
    for (size_t i = 0; i < count; ++i) {
      const auto& pixels = images[start + i]->input.pixels;
      for (size_t j = 0; j < pixels.size(); ++j) x[i * kDigitPixels + j] = pixels[j] * scale;
    }
    const float* y = model.predict(x.data(), static_cast<int64_t>(count));  // [count, outputs]
    for (size_t i = 0; i < count; ++i) {
      const auto p =
          probabilities(y + static_cast<int64_t>(i) * outputs, outputs, model.ends_with_softmax());
      images[start + i]->top = top_guesses(p);
    }
  }
}

// DIR/<stem>.png, with -2, -3 ... when two images share a stem (a/1.png, b/1.jpg).
fs::path dump_path(const fs::path& dir, const std::string& file, std::set<std::string>& used) {
  const std::string stem = fs::path(file).stem().string();
  std::string name = stem.empty() ? "image" : stem;
  for (int n = 2; !used.insert(name).second; ++n) name = stem + "-" + std::to_string(n);
  return dir / (name + ".png");
}

double rounded(float p) { return std::round(static_cast<double>(p) * 1e6) / 1e6; }

void print_text(const std::vector<ImageResult>& results) {
  for (const ImageResult& r : results) {
    if (!r.error.empty()) continue;  // already on stderr
    std::printf("%s: %lld (%.3f)  top %zu:", r.file.c_str(), static_cast<long long>(r.top[0].digit),
                static_cast<double>(r.top[0].probability), r.top.size());
    for (size_t i = 0; i < r.top.size(); ++i) {
      std::printf("%s %lld %.3f", i == 0 ? "" : ",", static_cast<long long>(r.top[i].digit),
                  static_cast<double>(r.top[i].probability));
    }
    std::printf("\n");
  }
}

void print_json(const std::vector<ImageResult>& results) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const ImageResult& r : results) {
    if (!r.error.empty()) {
      out.push_back({{"file", r.file}, {"error", r.error}});
      continue;
    }
    nlohmann::ordered_json top = nlohmann::ordered_json::array();
    for (const Guess& g : r.top)
      top.push_back({{"digit", g.digit}, {"probability", rounded(g.probability)}});
    out.push_back({{"file", r.file},
                   {"digit", r.top[0].digit},
                   {"probability", rounded(r.top[0].probability)},
                   {"top", top}});
  }
  // File names are bytes, not necessarily UTF-8: invalid sequences become U+FFFD, not an error.
  std::printf("%s\n",
              out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
}

}  // namespace

int run_predict(const PredictOptions& options) {
  flush_denormals_to_zero();
  const fs::path model_path = resolve_model_path(options.model);
  LoadedModel loaded = load_model(model_path);
  check_model_takes_digits(loaded.model, model_path);
  if (!options.dump_dir.empty()) {
    std::error_code ec;
    fs::create_directories(options.dump_dir, ec);
    if (ec) throw UserError(options.dump_dir + ": cannot create the directory: " + ec.message());
  }

  std::vector<ImageResult> results(options.images.size());
  std::vector<ImageResult*> readable;
  std::set<std::string> dump_names;
  bool dump_failed = false;
  for (size_t i = 0; i < options.images.size(); ++i) {
    ImageResult& r = results[i];
    r.file = options.images[i];
    try {
      r.input = preprocess_digit(read_grey_image(r.file), r.file);
      readable.push_back(&r);
    } catch (const ImageError& e) {
      r.error = e.what();
    } catch (const std::bad_alloc&) {  // within the limits, yet too much for this machine now
      r.error = r.file + ": not enough memory to decode the image";
    }
    if (!r.error.empty()) {
      print_error(r.error);
      continue;
    }
    if (options.dump_dir.empty()) continue;
    try {  // a dump that cannot be written fails the run, not the prediction
      write_grey_png(dump_path(options.dump_dir, r.file, dump_names), r.input.pixels.data(),
                     kDigitSide, kDigitSide);
    } catch (const UserError& e) {
      print_error(e.what());
      dump_failed = true;
    }
  }
  predict_all(loaded.model, loaded.meta.pixel_divisor, readable);

  if (options.json) {
    print_json(results);
  } else {
    std::printf("Model %s\n", model_path.string().c_str());  // which one: it may be runs/latest's
    print_text(results);
  }
  const bool all_read = readable.size() == results.size();
  return all_read && !dump_failed ? 0 : 2;
}

}  // namespace mnistnet
