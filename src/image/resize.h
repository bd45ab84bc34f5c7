#pragma once
// A plain resize of an image of any channel count (no digit preparation): area average when
// shrinking, bilinear when enlarging (resample_taps), rounded back to bytes. For image folders
// whose files differ from data.image_size, and for predict on models that are not digit models.
#include <cstdint>
#include <vector>

namespace mnistnet {

// src: [h, w, c] -> [out_h, out_w, c]. Equal sizes copy.
std::vector<uint8_t> resize_image(const uint8_t* src, int w, int h, int c, int out_w, int out_h);

}  // namespace mnistnet
