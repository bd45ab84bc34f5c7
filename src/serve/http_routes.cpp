#include "serve/http_routes.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <new>

#include "serve/batcher.h"
#include "serve/class_scores.h"
#include "serve/metrics.h"
#include "serve/model_store.h"
#include "serve/request_parser.h"
#include "serve/responses.h"

namespace mnistnet {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kJson = "application/json";
// The model part of every URL: name, then an optional /versions/N.
const std::string kModelPath = R"(/v1/models/([^/:]+)(?:/versions/([0-9]+))?)";

// Set when a request reaches routing, read when it has been answered: httplib runs both on the
// connection's thread. Requests refused before routing (too large) have no latency.
thread_local Clock::time_point request_start{};

void reply_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(error_json(message), kJson);
}

// The version the URL asks for, or a RequestError 404 as TensorFlow Serving words it.
std::shared_ptr<ServedModel> find_model(const httplib::Request& req, ServeContext& ctx) {
  const std::string name = req.matches[1];
  const std::string version = req.matches.size() > 2 ? std::string(req.matches[2]) : "";
  auto model = ctx.store.current();
  if (name != ctx.name) {
    throw RequestError(404, "Servable not found for request: Latest(" + name + ")");
  }
  if (!version.empty() && version != std::to_string(model->version)) {
    throw RequestError(404, "Servable not found for request: Specific(" + name + ", " + version +
                                "); version " + std::to_string(model->version) + " is serving");
  }
  return model;
}

// Runs `body` and turns its RequestError into TensorFlow Serving's error answer.
template <class Body>
void guarded(httplib::Response& res, Body&& body) {
  try {
    body();
  } catch (const RequestError& e) {
    reply_error(res, e.status(), e.what());
  } catch (const std::bad_alloc&) {
    reply_error(res, 503, "out of memory for this request; try fewer examples");
  }
}

void predict_or_classify(const httplib::Request& req, httplib::Response& res, ServeContext& ctx,
                         bool classify) {
  guarded(res, [&] {
    auto model = find_model(req, ctx);
    const ExampleBatch batch = classify ? parse_classify_request(req.body, model->signature)
                                        : parse_predict_request(req.body, model->signature);
    const int64_t classes = model->loaded.model.num_outputs();
    const bool softmax = model->loaded.model.ends_with_softmax();
    BatchJob job;
    job.model = model;
    job.pixels = batch.pixels.data();
    job.count = batch.count;
    job.outputs.resize(static_cast<size_t>(batch.count * classes));
    ctx.batcher.run(job);
    if (!job.error.empty()) {
      spdlog::error("forward pass failed: {}", job.error);
      reply_error(res, 500, "inference failed: " + job.error);
      return;
    }
    if (!softmax) {  // logits -> probabilities, as predict does
      for (int64_t i = 0; i < batch.count; ++i) {
        float* row = job.outputs.data() + i * classes;
        const auto p = output_probabilities(row, classes, false);
        std::copy(p.begin(), p.end(), row);
      }
    }
    res.set_content(classify ? classify_json(*model, job.outputs.data(), batch.count, classes)
                             : predict_json(job.outputs.data(), batch.count, classes, batch.format),
                    kJson);
  });
}

std::string endpoint_of(const std::string& path) {
  if (path == "/metrics") return "metrics";
  if (path.rfind("/v1/models/", 0) != 0) return "other";
  if (path.ends_with(":predict")) return "predict";
  if (path.ends_with(":classify")) return "classify";
  if (path.ends_with("/metadata")) return "metadata";
  if (path.find(':') == std::string::npos) return "status";
  return "other";
}

}  // namespace

void install_routes(httplib::Server& server, ServeContext& ctx) {
  server.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    request_start = Clock::now();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.set_logger([&ctx](const httplib::Request& req, const httplib::Response& res) {
    double seconds = -1.0;
    if (request_start != Clock::time_point{}) {
      seconds = std::chrono::duration<double>(Clock::now() - request_start).count();
      request_start = {};
    }
    ctx.metrics.count_request(endpoint_of(req.path), res.status, seconds);
  });
  // httplib's own refusals (no route, body too large, unreadable request) get the JSON error.
  server.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        std::string message = "HTTP error " + std::to_string(res.status);
        if (res.status == 400) message = "malformed HTTP request";
        if (res.status == 404) message = "no such endpoint: " + req.method + " " + req.path;
        if (res.status == 408) message = "the request did not arrive in time";
        if (res.status == 413) message = "the request body is larger than the server's limit";
        if (res.status == 414) message = "the request URI is too long";
        res.set_content(error_json(message), kJson);
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("internal error: {}", what);
        reply_error(res, 500, "internal error: " + what);
      });

  server.Get(kModelPath, [&ctx](const httplib::Request& req, httplib::Response& res) {
    guarded(res, [&] { res.set_content(status_json(*find_model(req, ctx)), kJson); });
  });
  server.Get(kModelPath + "/metadata", [&ctx](const httplib::Request& req, httplib::Response& res) {
    guarded(res, [&] { res.set_content(metadata_json(*find_model(req, ctx), ctx.name), kJson); });
  });
  server.Post(kModelPath + ":predict", [&ctx](const httplib::Request& req, httplib::Response& res) {
    predict_or_classify(req, res, ctx, false);
  });
  server.Post(kModelPath + ":classify",
              [&ctx](const httplib::Request& req, httplib::Response& res) {
                predict_or_classify(req, res, ctx, true);
              });
  server.Post(kModelPath + ":regress", [&ctx](const httplib::Request& req, httplib::Response& res) {
    guarded(res, [&] {
      find_model(req, ctx);
      throw RequestError(400, "this model is a classifier: use :predict or :classify");
    });
  });
  server.Get("/metrics", [&ctx](const httplib::Request&, httplib::Response& res) {
    res.set_content(ctx.metrics.render(), "text/plain; version=0.0.4");
  });
}

}  // namespace mnistnet
