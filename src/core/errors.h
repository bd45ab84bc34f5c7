#pragma once
// Error types. The library throws; only main() turns an exception into a message and an exit code:
// UserError (and its kinds) -> 2, DivergenceError -> 3, anything else -> 1.
#include <stdexcept>
#include <string>

namespace mnistnet {

// Something the user can fix: a flag, a config, a data file, a model file, an image.
// The message is one line that names the file (or flag) and what was expected.
class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ConfigError : public UserError {  // "configs/x.json: /model/layers/2/units: expected ..."
 public:
  using UserError::UserError;
};

class DataError : public UserError {  // "data/mnist/train-labels-idx1-ubyte.gz: byte 8: ..."
 public:
  using UserError::UserError;
};

class ModelFileError : public UserError {  // "runs/x/model.mnn: checksum mismatch ..."
 public:
  using UserError::UserError;
};

// Training produced a non-finite loss.
class DivergenceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace mnistnet
