#pragma once
// The error an unreadable or unusable image raises. It is a UserError (exit code 2), and its own
// kind so that `predict` can report one bad file and go on with the others.
#include "core/errors.h"

namespace mnistnet {

class ImageError : public UserError {  // "photos/7.jpg: not an image (PNG, JPEG, BMP, PGM) ..."
 public:
  using UserError::UserError;
};

}  // namespace mnistnet
