#pragma once
// The explicit table from Keras layer names to our layers. Adding a layer: its file pair,
// one row in registry.cpp, its test.
#include <memory>
#include <string>
#include <vector>

#include "config/spec.h"
#include "layers/layer.h"

namespace mnistnet {

// One config layer turned into operations: Keras's Dense(activation="relu") is a Dense op
// followed by an Activation op, shown as one row by `summary`.
struct LayerGroup {
  std::string name;  // user-given or Keras-style default ("dense_1")
  std::string type;  // Keras class name
  // The config's "inputs": names of earlier layers ("input" for the model's input). Without
  // them (has_inputs false) the layer reads the layer before it.
  bool has_inputs = false;
  std::vector<std::string> inputs;
  std::vector<std::unique_ptr<Layer>> ops;
};

// Validates the layer's arguments (unknown keys, types, ranges) and creates its operations.
// Throws ConfigError naming spec.pointer.
LayerGroup make_layer(const LayerSpec& spec, const std::string& source);

// The layer types the registry knows, for error messages and docs.
std::vector<std::string> known_layer_types();

}  // namespace mnistnet
