#include "core/denormals.h"

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace mnistnet {

void flush_denormals_to_zero() {
#if defined(__SSE__)
  constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;
  _mm_setcsr(_mm_getcsr() | kFlushToZero | kDenormalsAreZero);
#endif
}

}  // namespace mnistnet
