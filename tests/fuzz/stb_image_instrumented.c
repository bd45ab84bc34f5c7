/* The fuzz build compiles stb_image's implementation from Debian's header with the fuzzer's
   instrumentation, so libFuzzer sees coverage inside the decoders; the executable's definitions
   take precedence over libstb.so's at link time. */
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
