#pragma once
// TensorFlow Serving's REST endpoints on a cpp-httplib server:
//   GET  /v1/models/NAME[/versions/V]            version status
//   GET  /v1/models/NAME[/versions/V]/metadata   the signature, class names
//   POST /v1/models/NAME[/versions/V]:predict    {"instances"|"inputs"} ->
//   {"predictions"|"outputs"} POST /v1/models/NAME[/versions/V]:classify   {"examples"} ->
//   {"result"}: [name, score] best first GET  /metrics                                Prometheus
//   text
// Every error is {"error": "..."} with a 4xx status for the client's mistakes (bad JSON, shape,
// pixel, model name, size, image), 5xx only for the server's own.
#include <string>

namespace httplib {
class Server;
}

namespace mnistnet {

class ModelStore;
class DynamicBatcher;
class ServeMetrics;

struct ServeContext {
  std::string name;  // the model name in URLs
  ModelStore& store;
  DynamicBatcher& batcher;
  ServeMetrics& metrics;
};

void install_routes(httplib::Server& server, ServeContext& context);

}  // namespace mnistnet
