#pragma once
// The IDX reader behind the data-source table: MNIST's four files (and Fashion-MNIST's, KMNIST's,
// EMNIST's, QMNIST's) in one directory, named <prefix>-images-idx3-ubyte[.gz] and
// <prefix>-labels-idx1-ubyte[.gz], with data.train / data.test as the prefixes ("train", "t10k").
#include "data/data_source.h"

namespace mnistnet {

DataReader idx_data_reader();

// Transposes every image in place ([rows, cols, c] -> [cols, rows, c]): EMNIST stores its
// images column by column.
void transpose_images(Dataset& data);

}  // namespace mnistnet
