#pragma once
// Applies a config's augmentation layers, in their order, to one training image at a time
// (the input pipeline calls it while it assembles a batch, on its prefetch thread).
//
// Every random draw for an image comes from a generator seeded from (seed, the image's position
// in the training stream): the same seed gives the same images whatever the thread timing, and a
// run resumed at stream position P draws exactly what the uninterrupted run drew from P on.
// Each layer draws per image (Keras 3 draws per image too):
//   RandomTranslation  dy = U(height range) * rows, dx = U(width range) * cols
//   RandomRotation     angle = U(factor range) * 2 pi, counter-clockwise
//   RandomZoom         zoom_h = 1 + U(height range); zoom_w = 1 + U(width range), or zoom_h
//   RandomFlip         each axis the mode names flips when U(0, 1) <= 0.5
//   RandomContrast     factor = U(1 - lower, 1 + upper)
//   RandomBrightness   delta = U(factor range) * (value_range hi - lo)
//   RandomCrop         only at the image's own size, where Keras's crop is the identity
#include <cstdint>
#include <vector>

#include "data/augment_spec.h"

namespace mnistnet {

class Augmenter {
 public:
  // std::invalid_argument for a RandomCrop of another size than rows x cols.
  Augmenter(std::vector<AugmentLayer> layers, int rows, int cols, int channels, uint64_t seed);

  bool empty() const { return layers_.empty(); }
  // Augments one [rows, cols, channels] image in place. Allocates nothing.
  void apply(float* image, int64_t position);

 private:
  std::vector<AugmentLayer> layers_;
  int rows_, cols_, channels_;
  uint64_t seed_;
  std::vector<float> scratch_;  // [rows, cols, channels]: the warp's output
};

}  // namespace mnistnet
