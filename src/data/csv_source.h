#pragma once
// The CSV reader behind the data-source table, Kaggle's Digit Recognizer layout: a header row,
// a label column (data.label_column, "label"), and one column per pixel value in row order
// (rows, then columns, then channels). data.image_shape gives [rows, cols, channels]; without
// it the pixels form a square of one channel. Parsed with libcsv.
//
// data.path is a directory holding data.train ("train.csv") and data.test ("test.csv"), or a
// .csv file (the training split). A test file without the label column (Kaggle's test.csv) is
// a prediction input, not a test set.
#include <filesystem>

#include "data/data_source.h"

namespace mnistnet {

DataReader csv_data_reader();

// One CSV file. Without the label column the Dataset has no labels, unless require_labels, when
// that is an error. Every problem is a DataError "<file>: row R, column C (<name>): <what>"
// (rows counted after the header, from 1; columns from 1).
Dataset read_csv_dataset(const std::filesystem::path& path, const DataSpec& spec,
                         const ReadOptions& options, bool require_labels);

// The same for bytes in memory (the fuzz target); `name` stands for the path.
Dataset parse_csv_dataset(std::string_view bytes, const std::string& name, const DataSpec& spec,
                          const ReadOptions& options, bool require_labels);

}  // namespace mnistnet
