// Draws each layer's random factors and applies it (see augmenter.h).
#include "data/augmenter.h"

#include <algorithm>
#include <numbers>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/rng.h"
#include "data/augment_color.h"
#include "data/augment_geometry.h"

namespace mnistnet {
namespace {

// Uniform in [lo, hi], 53 random bits; exactly lo when lo == hi.
double uniform(Rng& rng, double lo, double hi) {
  const double u = static_cast<double>(rng.next_u64() >> 11) * 0x1.0p-53;
  return lo + (hi - lo) * u;
}

}  // namespace

Augmenter::Augmenter(std::vector<AugmentLayer> layers, int rows, int cols, int channels,
                     uint64_t seed)
    : layers_(std::move(layers)), rows_(rows), cols_(cols), channels_(channels), seed_(seed) {
  for (const AugmentLayer& l : layers_) {
    if (l.kind == AugmentKind::crop && (l.height != rows || l.width != cols))
      throw std::invalid_argument(l.pointer + ": RandomCrop to " + std::to_string(l.height) + "x" +
                                  std::to_string(l.width) + " but the images are " +
                                  std::to_string(rows) + "x" + std::to_string(cols));
  }
  if (!layers_.empty())  // evaluation pipelines have no augmentation: no scratch either
    scratch_.resize(static_cast<size_t>(rows) * static_cast<size_t>(cols) *
                    static_cast<size_t>(channels));
}

void Augmenter::apply(float* image, int64_t position) {
  Rng rng(Rng::derive(seed_, static_cast<uint64_t>(position)));
  const int64_t pixels = int64_t{rows_} * cols_;
  auto warp = [&](const AugmentLayer& l, const AffineMap& map) {
    warp_affine(image, scratch_.data(), rows_, cols_, channels_, map, l.fill_mode, l.interpolation,
                l.fill_value);
    std::copy(scratch_.begin(), scratch_.end(), image);
  };
  for (const AugmentLayer& l : layers_) {
    switch (l.kind) {
      case AugmentKind::translation: {
        const double dy = uniform(rng, l.lower, l.upper) * rows_;
        const double dx = uniform(rng, l.width_lower, l.width_upper) * cols_;
        warp(l, translation_map(dy, dx));
        break;
      }
      case AugmentKind::rotation:
        warp(l, rotation_map(uniform(rng, l.lower, l.upper) * 2 * std::numbers::pi, rows_, cols_));
        break;
      case AugmentKind::zoom: {
        const double zoom_h = 1 + uniform(rng, l.lower, l.upper);
        const double zoom_w = l.has_width ? 1 + uniform(rng, l.width_lower, l.width_upper) : zoom_h;
        warp(l, zoom_map(zoom_h, zoom_w, rows_, cols_));
        break;
      }
      case AugmentKind::flip: {
        const bool h = l.flip_horizontal && uniform(rng, 0, 1) <= 0.5;
        const bool v = l.flip_vertical && uniform(rng, 0, 1) <= 0.5;
        flip_image(image, rows_, cols_, channels_, h, v);
        break;
      }
      case AugmentKind::crop:
        break;  // the image's own size: Keras's crop is the identity
      case AugmentKind::contrast:
        adjust_contrast(image, pixels, channels_,
                        static_cast<float>(uniform(rng, 1 - l.lower, 1 + l.upper)), l.value_min,
                        l.value_max);
        break;
      case AugmentKind::brightness: {
        const double delta = uniform(rng, l.lower, l.upper) * (l.value_max - l.value_min);
        adjust_brightness(image, pixels * channels_, static_cast<float>(delta), l.value_min,
                          l.value_max);
        break;
      }
    }
  }
}

}  // namespace mnistnet
