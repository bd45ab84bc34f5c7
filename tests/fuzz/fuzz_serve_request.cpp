// libFuzzer target: a POST body of mnistnet serve -> a batch of examples, as :predict and as
// :classify, for a 28x28x1 model (b64 images allowed) and a 10-input one. Only a RequestError
// (the server's 4xx answer) may come out: anything else would be a 500 for a client's mistake.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "serve/request_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const mnistnet::InputSignature images = mnistnet::make_input_signature({28, 28, 1}, {});
  static const mnistnet::InputSignature small = mnistnet::make_input_signature({10}, {});
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (const auto* sig : {&images, &small}) {
    for (bool classify : {false, true}) {
      try {
        const auto batch = classify ? mnistnet::parse_classify_request(body, *sig)
                                    : mnistnet::parse_predict_request(body, *sig);
        if (batch.pixels.size() != static_cast<size_t>(batch.count * sig->size)) __builtin_trap();
        for (float p : batch.pixels) {
          if (!(p >= 0.0f && p <= 255.0f)) __builtin_trap();
        }
      } catch (const mnistnet::RequestError& e) {
        if (e.status() < 400 || e.status() > 499) __builtin_trap();
      }
    }
  }
  return 0;
}
