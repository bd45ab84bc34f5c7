// Batch assembly (gather + uint8->float) on top of IndexStream and PrefetchQueue.
#include "data/pipeline.h"

#include <algorithm>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>

#include "data/prefetch_queue.h"

namespace mnistnet {

namespace {

const PipelineSpec& checked(const Dataset& data, const PipelineSpec& spec) {
  auto bad = [](const std::string& what) { throw std::invalid_argument("Pipeline: " + what); };
  if (spec.batch_size < 1) bad("batch_size " + std::to_string(spec.batch_size) + ", need >= 1");
  if (spec.prefetch < 0) bad("prefetch " + std::to_string(spec.prefetch) + ", need >= 0");
  if (spec.shuffle_buffer < 0) bad("shuffle_buffer " + std::to_string(spec.shuffle_buffer));
  if (data.count < 0 || data.rows < 0 || data.cols < 0) bad("negative data set dimensions");
  if (data.pixels.size() != static_cast<size_t>(data.count * data.image_size()) ||
      data.labels.size() != static_cast<size_t>(data.count)) {
    bad("data set holds " + std::to_string(data.pixels.size()) + " pixels and " +
        std::to_string(data.labels.size()) + " labels for " + std::to_string(data.count) +
        " images of " + std::to_string(data.rows) + "x" + std::to_string(data.cols));
  }
  return spec;
}

// The one place a pixel becomes a float, so cached and uncached batches are bit-identical.
inline void to_float(const uint8_t* src, int64_t n, float scale, float* dst) {
  for (int64_t k = 0; k < n; ++k) dst[k] = static_cast<float>(src[k]) * scale;
}

IndexStreamSpec stream_spec(const Dataset& data, const PipelineSpec& spec) {
  return IndexStreamSpec{.count = data.count,
                         .shuffle_buffer = spec.shuffle_buffer,
                         .reshuffle_each_iteration = spec.reshuffle_each_iteration,
                         .repeat = spec.repeat,
                         .seed = spec.seed};
}

}  // namespace

Pipeline::Pipeline(const Dataset& data, PipelineSpec spec, const IndexStreamState* resume_from)
    : data_(data),
      spec_(checked(data, spec)),
      example_size_(data.image_size()),
      stream_(stream_spec(data, spec)),
      consumer_(stream_spec(data, spec)),
      augmenter_(spec.augmentation, data.rows, data.cols, data.channels, spec.augment_seed) {
  if (resume_from) {  // before the prefetch thread starts reading stream_
    stream_.restore(*resume_from);
    consumer_.restore(*resume_from);
  }
  if (spec_.cache) {
    cache_.resize(data.pixels.size());
    to_float(data.pixels.data(), static_cast<int64_t>(data.pixels.size()), spec_.pixel_scale,
             cache_.data());
  }
  const auto batch = static_cast<size_t>(spec_.batch_size);
  buffers_.resize(spec_.prefetch == 0 ? 1 : static_cast<size_t>(spec_.prefetch) + 2);
  for (Buffer& b : buffers_) {
    b.images.resize(batch * static_cast<size_t>(example_size_));
    b.labels.resize(batch);
    b.indices.resize(batch);
  }
  if (spec_.prefetch > 0) {
    queue_ = std::make_unique<PrefetchQueue>(static_cast<int>(buffers_.size()), [this](int slot) {
      return fill(buffers_[static_cast<size_t>(slot)]);
    });
  }
}

Pipeline::~Pipeline() = default;

bool Pipeline::fill(Buffer& buffer) {
  const int64_t position = stream_.emitted();  // of the batch's first example
  const size_t n = stream_.fill(buffer.indices);
  if (n == 0 || (n < buffer.indices.size() && spec_.drop_remainder)) return false;
  const auto size = static_cast<size_t>(example_size_);
  for (size_t i = 0; i < n; ++i) {
    const size_t example = buffer.indices[i];
    float* dst = buffer.images.data() + i * size;
    if (spec_.cache) {
      std::memcpy(dst, cache_.data() + example * size, size * sizeof(float));
    } else {
      to_float(data_.pixels.data() + example * size, example_size_, spec_.pixel_scale, dst);
    }
    if (!augmenter_.empty()) augmenter_.apply(dst, position + static_cast<int64_t>(i));
    buffer.labels[i] = data_.labels[example];
  }
  buffer.size = static_cast<int>(n);
  return true;
}

Batch Pipeline::view(const Buffer& buffer) const {
  return Batch{.size = buffer.size,
               .images = buffer.images.data(),
               .labels = buffer.labels.data(),
               .indices = buffer.indices.data()};
}

std::optional<Batch> Pipeline::next() {
  if (queue_) {
    const int slot = queue_->next();
    if (slot < 0) return std::nullopt;
    const Buffer& b = buffers_[static_cast<size_t>(slot)];
    consumed_ += b.size;
    return view(b);
  }
  if (exhausted_ || !fill(buffers_[0])) {
    exhausted_ = true;
    return std::nullopt;
  }
  consumed_ += buffers_[0].size;
  return view(buffers_[0]);
}

IndexStreamState Pipeline::stream_state() {
  consumer_at_ += consumer_.skip(consumed_ - consumer_at_);
  return consumer_.state();
}

}  // namespace mnistnet
