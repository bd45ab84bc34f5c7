#pragma once
// The image-folder reader behind the data-source table, Keras's image_dataset_from_directory
// layout: <root>/<class>/*.png|jpg|jpeg|bmp|pgm|ppm, classes from the sorted sub-folder names,
// files in sorted order. data.image_size ([height, width]) resizes every image (default: the
// images' own size, which must then be the same for all); data.color_mode "grayscale" or "rgb".
// data.path holds data.train ("train") and data.test ("test", optional) folders of that layout,
// or is itself the training root when it has no "train" folder. Images decode on every core.
#include "data/data_source.h"

namespace mnistnet {

DataReader image_folder_data_reader();

}  // namespace mnistnet
