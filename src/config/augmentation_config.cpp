// JSON -> AugmentLayer, with Keras 3's argument names, defaults and factor checks.
#include "config/augmentation_config.h"

#include <utility>

#include "config/json_fields.h"

namespace mnistnet {
namespace {

const char* const kTypes[] = {"RandomTranslation", "RandomRotation", "RandomZoom",
                              "RandomFlip",        "RandomCrop",     "RandomContrast",
                              "RandomBrightness"};

std::string number_text(double v) { return nlohmann::json(v).dump(); }

// Keras's factor: a float f (the range [-f, f]; RandomContrast's `symmetric` false: [f, f]) or a
// pair [lower, upper], lower <= upper unless symmetric is false (RandomContrast's pair is two
// distances from 1), every bound within [min, max].
std::pair<double, double> factor_range(JsonFields& f, const std::string& key, bool symmetric,
                                       double min, double max) {
  const nlohmann::json* v = f.value(key);
  if (!v) f.fail(key, "missing; expected a number or a pair [lower, upper]");
  std::pair<double, double> range;
  if (v->is_number()) {
    const double x = v->get<double>();
    if (symmetric && x < 0)
      f.fail(key, "expected a number >= 0 (the range [-f, f]) or a pair [lower, upper], got " +
                      number_text(x));
    range = symmetric ? std::pair{-x, x} : std::pair{x, x};
  } else if (v->is_array() && v->size() == 2 && (*v)[0].is_number() && (*v)[1].is_number()) {
    range = {(*v)[0].get<double>(), (*v)[1].get<double>()};
    if (symmetric && range.first > range.second)
      f.fail(key, "the lower bound " + number_text(range.first) + " is above the upper bound " +
                      number_text(range.second));
  } else {
    f.fail(key, "expected a number or a pair [lower, upper], got " + describe_json(*v));
  }
  for (const double bound : {range.second, range.first})  // upper first: f itself for a float
    if (!(bound >= min && bound <= max))
      f.fail(key, "expected values in [" + number_text(min) + ", " + number_text(max) + "], got " +
                      number_text(bound));
  return range;
}

void read_fill(JsonFields& f, AugmentLayer& a) {
  const std::string mode =
      f.choice("fill_mode", "reflect", {"reflect", "wrap", "constant", "nearest"});
  a.fill_mode = mode == "reflect"    ? FillMode::reflect
                : mode == "wrap"     ? FillMode::wrap
                : mode == "constant" ? FillMode::constant
                                     : FillMode::nearest;
  a.interpolation = f.choice("interpolation", "bilinear", {"bilinear", "nearest"}) == "nearest"
                        ? Interpolation::nearest
                        : Interpolation::bilinear;
  a.fill_value = static_cast<float>(f.number("fill_value", 0.0));
}

void read_value_range(JsonFields& f, AugmentLayer& a) {
  if (!f.has("value_range")) return;  // Keras's default (0, 255)
  const nlohmann::json* v = f.value("value_range");
  if (!v->is_array() || v->size() != 2 || !(*v)[0].is_number() || !(*v)[1].is_number() ||
      !((*v)[0].get<double>() < (*v)[1].get<double>()))
    f.fail("value_range", "expected [low, high] with low < high, got " + describe_json(*v));
  a.value_min = (*v)[0].get<float>();
  a.value_max = (*v)[1].get<float>();
}

}  // namespace

bool is_augmentation_layer(const std::string& type) {
  for (const char* t : kTypes)
    if (type == t) return true;
  return false;
}

AugmentLayer parse_augmentation_layer(const nlohmann::json& layer, const std::string& source,
                                      const std::string& pointer) {
  JsonFields f(layer, source, pointer);
  AugmentLayer a;
  a.type = f.string("type", std::nullopt);
  a.pointer = pointer;
  f.string("name", "");
  if (f.has("seed"))
    f.fail("seed",
           "augmentation draws from the config's /seed (per image and stream position, "
           "so a resumed run draws the same); remove this key");
  if (a.type == "RandomTranslation") {
    a.kind = AugmentKind::translation;
    std::tie(a.lower, a.upper) = factor_range(f, "height_factor", true, -1.0, 1.0);
    std::tie(a.width_lower, a.width_upper) = factor_range(f, "width_factor", true, -1.0, 1.0);
    read_fill(f, a);
  } else if (a.type == "RandomRotation") {
    a.kind = AugmentKind::rotation;
    std::tie(a.lower, a.upper) = factor_range(f, "factor", true, -1.0, 1.0);
    read_fill(f, a);
  } else if (a.type == "RandomZoom") {
    a.kind = AugmentKind::zoom;
    // Keras's bounds: zoom 1 + factor in [0, 2].
    std::tie(a.lower, a.upper) = factor_range(f, "height_factor", true, -1.0, 1.0);
    const nlohmann::json* width = f.find("width_factor");
    a.has_width = width && !width->is_null();
    if (a.has_width)
      std::tie(a.width_lower, a.width_upper) = factor_range(f, "width_factor", true, -1.0, 1.0);
    else
      f.skip("width_factor");
    read_fill(f, a);
  } else if (a.type == "RandomFlip") {
    a.kind = AugmentKind::flip;
    const std::string mode = f.choice("mode", "horizontal_and_vertical",
                                      {"horizontal", "vertical", "horizontal_and_vertical"});
    a.flip_horizontal = mode != "vertical";
    a.flip_vertical = mode != "horizontal";
  } else if (a.type == "RandomCrop") {
    a.kind = AugmentKind::crop;
    a.height = f.integer("height", std::nullopt, 1, 4096);
    a.width = f.integer("width", std::nullopt, 1, 4096);
  } else if (a.type == "RandomContrast") {
    a.kind = AugmentKind::contrast;
    std::tie(a.lower, a.upper) = factor_range(f, "factor", false, 0.0, 1e6);
    if (a.lower > 1.0)
      f.fail("factor", "the lower bound " + number_text(a.lower) +
                           " would make the contrast factor 1 - lower negative; expected <= 1");
    read_value_range(f, a);
  } else if (a.type == "RandomBrightness") {
    a.kind = AugmentKind::brightness;
    std::tie(a.lower, a.upper) = factor_range(f, "factor", true, -1.0, 1.0);
    read_value_range(f, a);
  } else {
    f.fail("type", "\"" + a.type + "\" is not an augmentation layer");
  }
  f.finish();
  return a;
}

}  // namespace mnistnet
