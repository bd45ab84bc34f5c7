#pragma once
// The training input pipeline, with the semantics of the Keras MNIST codelab's
//   dataset.cache().shuffle(5000, reshuffle_each_iteration=True).repeat()
//          .batch(128, drop_remainder=True).prefetch(AUTOTUNE)
// i.e. PipelineSpec{.cache = true, .shuffle_buffer = 5000, .repeat = true, .batch_size = 128,
//                   .drop_remainder = true, .prefetch = 2}.
//
//   Pipeline pipe(train, spec);
//   while (auto batch = pipe.next()) train_step(batch->images, batch->labels, batch->size);
//
// The example order comes from IndexStream (index_stream.h): a tf.data shuffle buffer per pass,
// passes back to back with repeat, so a batch may span two passes. The same spec and seed give
// the same batches with or without prefetch and whatever the thread timing.
//
// Checkpoints: stream_state() is the position of the consumer (the batches next() handed out),
// not of the prefetch thread that runs ahead; a Pipeline constructed from that state hands out
// exactly the batches the original would have handed out next, augmented images included (their
// draws are keyed by the stream position the state carries).
//
// Augmentation (spec.augmentation) runs in fill(), on the prefetch thread when there is one, so
// with prefetch it overlaps the training step instead of adding to it.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "data/augment_spec.h"
#include "data/augmenter.h"
#include "data/dataset.h"
#include "data/index_stream.h"

namespace mnistnet {

class PrefetchQueue;

struct PipelineSpec {
  bool cache = true;           // convert all pixels to float once (count*rows*cols*4 bytes)
  int64_t shuffle_buffer = 0;  // 0 = no shuffle; >= count = full permutation
  bool reshuffle_each_iteration = true;
  bool repeat = false;          // true: endless, passes back to back
  int batch_size = 32;          // >= 1
  bool drop_remainder = false;  // drop the last short batch (only matters without repeat)
  int prefetch = 2;             // batches made ahead on a background thread; 0 = no thread
  uint64_t seed = 0;
  float pixel_scale = 1.0f / 256.0f;  // image value = pixel * pixel_scale
  // Applied to every image after pixel_scale, in order (training only: evaluation pipelines
  // leave it empty). Each image's draws depend on augment_seed and its stream position alone.
  std::vector<AugmentLayer> augmentation = {};
  uint64_t augment_seed = 0;
};

struct Batch {
  int size = 0;                       // examples in this batch, 1..batch_size
  const float* images = nullptr;      // [size, rows*cols], pixel * pixel_scale
  const int32_t* labels = nullptr;    // [size]
  const uint32_t* indices = nullptr;  // [size], the examples' indices in the Dataset
};

class Pipeline {
 public:
  // data must outlive the Pipeline. std::invalid_argument for a bad spec or inconsistent data
  // (an augmentation that does not fit the images), or a resume_from state that cannot belong
  // to this spec and data.
  Pipeline(const Dataset& data, PipelineSpec spec, const IndexStreamState* resume_from = nullptr);
  ~Pipeline();  // stops and joins the prefetch thread, even mid-stream
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // The next batch, or nullopt once the data is exhausted (never with repeat, unless the data
  // set is empty). Its pointers stay valid until the next call to next(). Rethrows an exception
  // raised while producing the batch. Allocates nothing.
  std::optional<Batch> next();

  int64_t example_size() const { return example_size_; }  // floats per image, rows*cols
  // Examples handed out by next() since construction.
  int64_t examples_consumed() const { return consumed_; }
  // The index stream where the consumer stands: after the last batch next() returned. Replays
  // the indices consumed since the previous call on a second stream (no pixels), so it costs
  // one extra pass of index generation over a whole run.
  IndexStreamState stream_state();
  const PipelineSpec& spec() const { return spec_; }

 private:
  struct Buffer {
    std::vector<float> images;      // [batch_size, example_size]
    std::vector<int32_t> labels;    // [batch_size]
    std::vector<uint32_t> indices;  // [batch_size]
    int size = 0;
  };

  bool fill(Buffer& buffer);  // false when no further batch exists
  Batch view(const Buffer& buffer) const;

  const Dataset& data_;
  const PipelineSpec spec_;
  const int64_t example_size_;
  std::vector<float> cache_;  // [count, example_size] when spec_.cache
  IndexStream stream_;        // the producer's position (ahead of the consumer with prefetch)
  IndexStream consumer_;      // lags: advanced to consumed_ by stream_state()
  Augmenter augmenter_;       // used by fill() alone, so on one thread at a time
  int64_t consumed_ = 0, consumer_at_ = 0;
  std::vector<Buffer> buffers_;  // 1 without prefetch, else prefetch + 2 (see PrefetchQueue)
  bool exhausted_ = false;       // no-prefetch path only
  // Last member: destroyed first, so the producer thread stops before what it uses goes away.
  std::unique_ptr<PrefetchQueue> queue_;
};

}  // namespace mnistnet
