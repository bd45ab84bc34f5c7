// mnistnet predict: the class of each image file (or of each row of a CSV file) by a saved model.
//
// Every image is decoded and prepared first (src/image/model_image.h): a digit model's the way
// MNIST's digits were made, any other model's by a plain resize to its image shape, grey or RGB.
// The model sees them in batches of up to kBatch. A bad image is one error line on stderr and does
// not stop the others; the exit code is then 2. With --csv, the rows of a Kaggle-layout CSV are
// classified and --out gets Kaggle's submission, ImageId,Label.
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
#include "cli/ensemble.h"
#include "cli/latest_run.h"
#include "core/atomic_file.h"
#include "core/denormals.h"
#include "core/errors.h"
#include "core/shape.h"
#include "data/csv_source.h"
#include "image/image_decoder.h"
#include "image/model_image.h"
#include "image/png_writer.h"
#include "model/model_file.h"
#include "serve/class_scores.h"

namespace mnistnet {
namespace fs = std::filesystem;

namespace {

constexpr int64_t kBatch = 1000;  // images per model.predict call: 3 MiB of input
constexpr int64_t kTop = 3;

struct ImageResult {
  std::string file;             // as given on the command line
  std::string error;            // empty when the image was predicted
  std::vector<uint8_t> input;   // what the model sees: [rows, cols, channels] of its images
  std::vector<ClassScore> top;  // best first
};

void print_error(const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "mnistnet: error: %s\n", message.c_str());
}

// The model's prepared images must be what its input takes (a model file of another tool's
// making may say otherwise); serve applies the same rule (image_input_mismatch).
void check_model_input(const LoadedModel& loaded, const fs::path& path) {
  const std::string mismatch = image_input_mismatch(loaded.meta.image, loaded.model.input_shape());
  if (!mismatch.empty()) throw UserError(path.string() + ": " + mismatch);
}

// An image file -> the model's input bytes (src/image/model_image.h, as the server does).
std::vector<uint8_t> prepare(const ModelMeta& meta, const std::string& file) {
  return prepare_image(read_image_file(file), file, meta.image);
}

// Fills each readable image's top guesses: the members' mean probabilities (one member: its own),
// inputs byte / pixel_divisor of each member, as in training.
void predict_all(std::vector<EnsembleMember>& members, std::vector<ImageResult*>& images) {
  const int64_t outputs = members.front().loaded.model.num_outputs();
  const auto size = static_cast<size_t>(members.front().loaded.model.input_size());
  std::vector<uint8_t> pixels;
  std::vector<float> x, p;
  for (size_t start = 0; start < images.size(); start += static_cast<size_t>(kBatch)) {
    const size_t count = std::min(images.size() - start, static_cast<size_t>(kBatch));
    pixels.resize(count * size);  // [count, input size]
    for (size_t i = 0; i < count; ++i)
      std::copy(images[start + i]->input.begin(), images[start + i]->input.end(),
                pixels.begin() + static_cast<std::ptrdiff_t>(i * size));
    ensemble_probabilities(members, pixels.data(), static_cast<int64_t>(count), x, p);
    for (size_t i = 0; i < count; ++i) {
      const float* row = p.data() + static_cast<int64_t>(i) * outputs;
      images[start + i]->top = top_classes(std::vector<float>(row, row + outputs), kTop);
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

void print_text(const std::vector<ImageResult>& results, const ModelMeta& meta) {
  for (const ImageResult& r : results) {
    if (!r.error.empty()) continue;  // already on stderr
    std::printf("%s: %s (%.3f)  top %zu:", r.file.c_str(), class_name(meta, r.top[0].index).c_str(),
                static_cast<double>(r.top[0].score), r.top.size());
    for (size_t i = 0; i < r.top.size(); ++i) {
      std::printf("%s %s %.3f", i == 0 ? "" : ",", class_name(meta, r.top[i].index).c_str(),
                  static_cast<double>(r.top[i].score));
    }
    std::printf("\n");
  }
}

void print_json(const std::vector<ImageResult>& results, const ModelMeta& meta) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const ImageResult& r : results) {
    if (!r.error.empty()) {
      out.push_back({{"file", r.file}, {"error", r.error}});
      continue;
    }
    nlohmann::ordered_json top = nlohmann::ordered_json::array();
    for (const ClassScore& g : r.top)
      top.push_back({{"digit", g.index},
                     {"class", class_name(meta, g.index)},
                     {"probability", rounded(g.score)}});
    out.push_back({{"file", r.file},
                   {"digit", r.top[0].index},
                   {"class", class_name(meta, r.top[0].index)},
                   {"probability", rounded(r.top[0].score)},
                   {"top", top}});
  }
  // File names are bytes, not necessarily UTF-8: invalid sequences become U+FFFD, not an error.
  std::printf("%s\n",
              out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
}

// Kaggle's submission for the rows of a CSV file (a label column, if any, is ignored):
// "ImageId,Label", ImageId counting from 1, Label the class name. Written atomically.
int predict_csv(std::vector<EnsembleMember>& members, const PredictOptions& options) {
  if (options.out.empty()) throw UserError("predict: --csv needs --out FILE for the submission");
  if (!options.images.empty()) throw UserError("predict: give image files or --csv, not both");
  const LoadedModel& loaded = members.front().loaded;
  DataSpec spec = data_spec_of(loaded.meta, members.front().path.string());
  const Shape& s = loaded.meta.image.image_shape;
  spec.image_shape = s;
  const Dataset rows = read_csv_dataset(options.csv, spec, ReadOptions{}, false);
  const int64_t outputs = loaded.model.num_outputs();
  const auto size = static_cast<size_t>(rows.image_size());
  std::string out = "ImageId,Label\n";
  std::vector<float> x, p;
  for (int64_t start = 0; start < rows.count; start += kBatch) {
    const int64_t count = std::min(kBatch, rows.count - start);
    ensemble_probabilities(members, rows.pixels.data() + static_cast<size_t>(start) * size, count,
                           x, p);
    const float* y = p.data();
    for (int64_t i = 0; i < count; ++i) {
      const float* row = y + i * outputs;
      const int64_t best = std::max_element(row, row + outputs) - row;
      out += std::to_string(start + i + 1) + "," + class_name(loaded.meta, best) + "\n";
    }
  }
  write_file_atomically(options.out, out);
  if (!options.json)
    std::printf("Wrote %s: %lld predictions\n", options.out.c_str(),
                static_cast<long long>(rows.count));
  else
    std::printf("{\"out\": %s, \"count\": %lld}\n", nlohmann::json(options.out).dump().c_str(),
                static_cast<long long>(rows.count));
  return 0;
}

}  // namespace

int run_predict(const PredictOptions& options) {
  flush_denormals_to_zero();
  if (options.images.empty() && options.csv.empty())
    throw UserError("predict: give image files, or --csv FILE --out FILE");
  std::vector<EnsembleMember> members = load_ensemble(options.models);
  for (const EnsembleMember& m : members) check_model_input(m.loaded, m.path);
  const LoadedModel& loaded = members.front().loaded;
  if (!options.csv.empty()) return predict_csv(members, options);
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
      r.input = prepare(loaded.meta, r.file);
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
      const Shape& s = loaded.meta.image.image_shape;
      write_png(dump_path(options.dump_dir, r.file, dump_names), r.input.data(),
                static_cast<int>(s[1]), static_cast<int>(s[0]), static_cast<int>(s[2]));
    } catch (const UserError& e) {
      print_error(e.what());
      dump_failed = true;
    }
  }
  predict_all(members, readable);

  if (options.json) {
    print_json(results, loaded.meta);
  } else {
    // Which one: it may be runs/latest's.
    std::printf("Model %s\n", ensemble_name(members).c_str());
    print_text(results, loaded.meta);
  }
  const bool all_read = readable.size() == results.size();
  return all_read && !dump_failed ? 0 : 2;
}

}  // namespace mnistnet
