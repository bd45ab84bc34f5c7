#pragma once
// The NPZ reader behind the data-source table, Keras's mnist.npz layout: a zip archive (stored
// or deflated members, read with libzip) of .npy arrays x_train [N, H, W] or [N, H, W, C] uint8,
// y_train [N] integers, and x_test / y_test (the names are data.x_train ...; the test pair is
// optional). data.path is the .npz file, or a directory holding <dataset>.npz.
#include <string_view>

#include "data/data_source.h"

namespace mnistnet {

DataReader npz_data_reader();

// One split from an archive's bytes in memory (the fuzz target); `name` stands for the path.
// Throws DataError "<name>: member <m>.npy: byte <b>: <what>" for a bad archive or array.
Dataset parse_npz_split(std::string_view bytes, const std::string& name, const DataSpec& spec,
                        Split split, const ReadOptions& options);

}  // namespace mnistnet
