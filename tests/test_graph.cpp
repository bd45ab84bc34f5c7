// Models as layer graphs: whole-graph gradients by finite differences, the merge layers'
// gradients, and the one-line errors of a graph that does not fit.
#include <catch2/catch.hpp>
#include <string>

#include "config/config_loader.h"
#include "core/errors.h"
#include "gradient_check.h"
#include "layers/concatenate.h"
#include "layers/elementwise_merge.h"
#include "model/loss.h"
#include "model/model.h"
#include "model/summary_table.h"

using namespace mnistnet;
using Catch::Contains;
using mnistnet::testing::random_vector;

namespace {

ModelSpec spec_of(const std::string& input_shape, const std::string& layers) {
  return parse_model_spec(nlohmann::json::parse(R"({"input_shape": )" + input_shape +
                                                R"(, "layers": [)" + layers + "]}"),
                          "g.json", "/model");
}

// The mean loss's gradient of every trainable parameter, by backward() and by central
// differences of the training forward. A small step keeps relus (fused or not) away from
// their kinks, which a step of 1e-2 crosses in graphs with batch norm.
void check_model_gradients(Model& m, int64_t batch, double margin = 3e-3, float step = 1e-2f) {
  const auto x = random_vector(m.input_size() * batch, 11);
  std::vector<int32_t> labels(static_cast<size_t>(batch));
  for (size_t i = 0; i < labels.size(); ++i)
    labels[i] = static_cast<int32_t>(i % static_cast<size_t>(m.num_outputs()));
  auto loss = [&] {
    const float* logits = m.forward_logits(x.data(), batch, true);
    return softmax_cross_entropy(logits, labels.data(), batch, m.num_outputs(), nullptr).loss /
           static_cast<double>(batch);
  };
  const float* logits = m.forward_logits(x.data(), batch, true);
  softmax_cross_entropy(logits, labels.data(), batch, m.num_outputs(), m.logits_grad());
  m.backward(batch);
  int checked = 0;
  for (ParamRef& p : m.params()) {
    if (!p.trainable) continue;
    const std::vector<float> analytic(p.grad, p.grad + p.size());
    for (size_t i = 0; i < analytic.size(); ++i) {
      const float saved = p.value[i];
      p.value[i] = saved + step;
      const double plus = loss();
      p.value[i] = saved - step;
      const double minus = loss();
      p.value[i] = saved;
      INFO(p.name << "[" << i << "]");
      CHECK(analytic[i] == Approx((plus - minus) / (2.0 * step)).margin(margin));
      ++checked;
    }
  }
  CHECK(checked > 0);
}

// Merge layer check: L = sum(y .* r). Every input's gradient by backward_merge, written into
// buffers that already hold `prefill` with accumulate=true, against central differences.
void check_merge(MergeLayer& layer, const std::vector<Shape>& shapes, bool accumulate,
                 double kink = -1.0) {
  const int64_t batch = 3;
  const Shape out = layer.build_merge(shapes);
  std::vector<std::vector<float>> xs;
  for (size_t k = 0; k < shapes.size(); ++k)
    xs.push_back(random_vector(element_count(shapes[k]) * batch, 20 + k));
  const auto r = random_vector(element_count(out) * batch, 5);
  std::vector<float> y(r.size());
  std::vector<const float*> ptrs;
  for (auto& x : xs) ptrs.push_back(x.data());
  auto loss = [&] {
    layer.forward_merge(ptrs, y.data(), batch, true);
    double l = 0;
    for (size_t i = 0; i < y.size(); ++i) l += static_cast<double>(y[i]) * r[i];
    return l;
  };
  loss();
  std::vector<std::vector<float>> dxs;
  std::vector<MergeGrad> grads;
  for (size_t k = 0; k < xs.size(); ++k) dxs.emplace_back(xs[k].size(), accumulate ? 0.5f : 9.0f);
  for (auto& d : dxs) grads.push_back({d.data(), accumulate});
  layer.backward_merge(ptrs, y.data(), r.data(), grads, batch);
  for (size_t k = 0; k < xs.size(); ++k) {
    for (size_t i = 0; i < xs[k].size(); ++i) {
      if (kink >= 0 && std::abs(y[i % y.size()]) < kink) continue;
      const float saved = xs[k][i];
      xs[k][i] = saved + 1e-2f;
      const double plus = loss();
      xs[k][i] = saved - 1e-2f;
      const double minus = loss();
      xs[k][i] = saved;
      const double numeric = (plus - minus) / 2e-2 + (accumulate ? 0.5 : 0.0);
      INFO(layer.type() << " input " << k << "[" << i << "]");
      CHECK(dxs[k][i] == Approx(numeric).margin(1e-3));
    }
  }
}

std::string graph_error(const std::string& layers, const std::string& input = "[4]") {
  try {
    Model::build(spec_of(input, layers), 1);
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    CHECK(what.find('\n') == std::string::npos);
    return what;
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("Element-wise merge layers have the gradients of their expressions", "[graph][merge]") {
  const std::vector<Shape> two{{2, 3}, {2, 3}}, three{{4}, {4}, {4}};
  for (const bool accumulate : {false, true}) {
    for (const MergeKind kind : {MergeKind::add, MergeKind::multiply, MergeKind::average}) {
      ElementwiseMerge a(kind), b(kind);
      check_merge(a, two, accumulate);
      check_merge(b, three, accumulate);
    }
    ElementwiseMerge sub(MergeKind::subtract);
    check_merge(sub, two, accumulate);
  }
}

TEST_CASE("Maximum passes the gradient to the largest input, ties to the first", "[graph][merge]") {
  ElementwiseMerge m(MergeKind::maximum);
  // Random inputs differ by more than the step almost everywhere; check the rest by hand.
  check_merge(m, {{5}, {5}, {5}}, false);
  const std::vector<float> a{1, 2, 3}, b{1, 5, 0};
  const std::vector<const float*> xs{a.data(), b.data()};
  std::vector<float> y(3), da(3), db(3);
  m.build_merge({{3}, {3}});
  m.forward_merge(xs, y.data(), 1, true);
  CHECK(y == std::vector<float>{1, 5, 3});
  const std::vector<float> dy{10, 20, 30};
  const std::vector<MergeGrad> g{{da.data(), false}, {db.data(), false}};
  m.backward_merge(xs, y.data(), dy.data(), g, 1);
  CHECK(da == std::vector<float>{10, 0, 30});
  CHECK(db == std::vector<float>{0, 20, 0});
}

TEST_CASE("Add with its relu fused is relu(Add) both ways", "[graph][merge]") {
  ElementwiseMerge add(MergeKind::add);
  REQUIRE(add.absorb_relu());
  check_merge(add, {{6}, {6}}, false, 2e-2);
  CHECK(add.backward_reads().output);
  CHECK_FALSE(add.backward_reads().input);
}

TEST_CASE("Concatenate joins along its axis and splits the gradient back", "[graph][merge]") {
  Concatenate last(-1), middle(2), first(1);
  check_merge(last, {{2, 2, 3}, {2, 2, 1}}, false);
  check_merge(last, {{2, 2, 3}, {2, 2, 1}}, true);
  check_merge(middle, {{2, 1, 3}, {2, 4, 3}, {2, 2, 3}}, false);
  check_merge(first, {{1, 2}, {3, 2}}, true);
  Concatenate c(-1);
  CHECK(c.build_merge({{4, 4, 3}, {4, 4, 5}}) == Shape{4, 4, 8});
  const std::vector<float> a{1, 2, 3, 4}, b{5, 6};
  std::vector<float> y(6);
  c.build_merge({{2}, {1}});
  c.forward_merge(std::vector<const float*>{a.data(), b.data()}, y.data(), 2, false);
  CHECK(y == std::vector<float>{1, 2, 5, 3, 4, 6});
}

TEST_CASE("A tensor read by two ops gets the sum of their gradients", "[graph][gradient]") {
  Model m = Model::build(spec_of("[5]", R"(
      {"type": "Dense", "units": 4, "activation": "tanh", "name": "shared"},
      {"type": "Dense", "units": 3, "name": "left"},
      {"type": "Dense", "units": 3, "activation": "sigmoid", "name": "right", "inputs": ["shared"]},
      {"type": "Multiply", "inputs": ["left", "right"]},
      {"type": "Dense", "units": 3, "activation": "softmax"})"),
                         3);
  CHECK_FALSE(m.is_sequential());
  check_model_gradients(m, 4);
}

TEST_CASE("A tensor read twice by one merge, and the model input read by two layers",
          "[graph][gradient]") {
  Model m = Model::build(spec_of("[4]", R"(
      {"type": "Dense", "units": 4, "name": "a"},
      {"type": "Dense", "units": 4, "name": "b", "inputs": ["input"]},
      {"type": "Add", "inputs": ["a", "a", "b"]},
      {"type": "Activation", "activation": "tanh"},
      {"type": "Dense", "units": 3, "activation": "softmax"})"),
                         5);
  check_model_gradients(m, 3);
}

TEST_CASE("Whole-graph gradients through Add, Subtract, Average, Maximum and Concatenate",
          "[graph][gradient]") {
  Model m = Model::build(spec_of("[6]", R"(
      {"type": "Dense", "units": 4, "activation": "tanh", "name": "a"},
      {"type": "Dense", "units": 4, "activation": "tanh", "name": "b", "inputs": ["input"]},
      {"type": "Add", "name": "sum", "inputs": ["a", "b"]},
      {"type": "Subtract", "name": "diff", "inputs": ["a", "b"]},
      {"type": "Average", "name": "avg", "inputs": ["sum", "diff", "a"]},
      {"type": "Maximum", "name": "max", "inputs": ["avg", "b"]},
      {"type": "Concatenate", "inputs": ["max", "sum", "input"]},
      {"type": "Dense", "units": 3, "activation": "softmax"})"),
                         7);
  check_model_gradients(m, 3);
}

TEST_CASE("A residual block with a projection: conv, batch norm, Add, fused relus",
          "[graph][gradient]") {
  Model m = Model::build(spec_of("[6, 6, 2]", R"(
      {"type": "Conv2D", "name": "stem", "filters": 3, "kernel_size": 3, "padding": "same"},
      {"type": "Conv2D", "name": "c1", "filters": 4, "kernel_size": 3, "strides": 2,
       "padding": "same", "use_bias": false},
      {"type": "BatchNormalization", "name": "bn1"},
      {"type": "Activation", "activation": "relu"},
      {"type": "Conv2D", "name": "c2", "filters": 4, "kernel_size": 3, "padding": "same",
       "use_bias": false},
      {"type": "BatchNormalization", "name": "bn2"},
      {"type": "Conv2D", "name": "proj", "inputs": ["stem"], "filters": 4, "kernel_size": 1,
       "strides": 2, "padding": "same", "use_bias": false},
      {"type": "BatchNormalization", "name": "proj_bn"},
      {"type": "Add", "name": "add", "inputs": ["bn2", "proj_bn"]},
      {"type": "Activation", "activation": "relu"},
      {"type": "GlobalAveragePooling2D"},
      {"type": "Dense", "units": 3, "activation": "softmax"})"),
                         9);
  std::vector<bool> fused;
  m.set_profiling(true);
  for (const OpProfile& p : m.profile()) fused.push_back(p.fused);
  m.set_profiling(false);
  CHECK(std::count(fused.begin(), fused.end(), true) == 2);  // after bn1 and after the Add
  check_model_gradients(m, 4, 3e-3, 1e-3f);
}

TEST_CASE("A relu is fused only into a producer nobody else reads", "[graph]") {
  Model m = Model::build(spec_of("[4]", R"(
      {"type": "Dense", "units": 4, "name": "d"},
      {"type": "BatchNormalization", "name": "bn"},
      {"type": "Activation", "activation": "relu", "name": "r"},
      {"type": "Add", "inputs": ["r", "bn"]},
      {"type": "Dense", "units": 3, "activation": "softmax"})"),
                         2);
  m.set_profiling(true);
  for (const OpProfile& p : m.profile()) CHECK_FALSE(p.fused);
  m.set_profiling(false);
  check_model_gradients(m, 4, 5e-3);
}

TEST_CASE("Graph topology errors are one line naming the JSON pointer", "[graph][errors]") {
  const std::string head = R"({"type": "Dense", "units": 4, "name": "a"}, )";
  const std::string tail = R"(, {"type": "Dense", "units": 3, "activation": "softmax"})";
  CHECK(graph_error(head + R"({"type": "Dense", "units": 4, "inputs": ["nope"]})" + tail) ==
        "g.json: /model/layers/1/inputs/0: no earlier layer is named \"nope\" (a layer reads the "
        "model's \"input\" or a layer before it)");
  CHECK(graph_error(head + R"({"type": "Dense", "units": 4, "inputs": ["b"]},
                             {"type": "Dense", "units": 4, "name": "b"})" +
                    tail) ==
        "g.json: /model/layers/1/inputs/0: \"b\" is a later layer (/model/layers/2): a layer "
        "reads only earlier layers, so a graph has no cycles");
  CHECK_THAT(
      graph_error(head + R"({"type": "Dense", "units": 4, "name": "s", "inputs": ["s"]})" + tail),
      Contains("/model/layers/1/inputs/0: a layer cannot read itself"));
  CHECK(graph_error(head + R"({"type": "Dense", "units": 4, "name": "a"})" + tail) ==
        "g.json: /model/layers/1/name: \"a\" is already the name of /model/layers/0: layer names "
        "must be unique");
  CHECK_THAT(graph_error(R"({"type": "Dense", "units": 4, "name": "dense_1"},
                            {"type": "Dense", "units": 4}, {"type": "Dense", "units": 4})" +
                         tail),
             Contains("/model/layers/2: this layer's default name \"dense_1\" is already the name "
                      "of /model/layers/0: give it a \"name\""));
  CHECK_THAT(graph_error(R"({"type": "Dense", "units": 4, "name": "input"})" + tail),
             Contains("/model/layers/0/name: \"input\" is already the name of the model's input"));
  CHECK(graph_error(head + R"({"type": "Dense", "units": 5, "name": "b", "inputs": ["input"]},
                             {"type": "Add", "inputs": ["a", "b"]})" +
                    tail) ==
        "g.json: /model/layers/2/inputs: Add \"add\": \"a\" (None, 4) and \"b\" (None, 5) do not "
        "fit: Add needs inputs of one shape");
  CHECK(graph_error(head + R"({"type": "Dense", "units": 4, "name": "b", "inputs": ["input"]},
                             {"type": "Dense", "units": 4, "inputs": ["b"]})" +
                    tail) ==
        "g.json: /model/layers/0: the output of Dense \"a\" is read by no layer; only the last "
        "layer's output may go unread (name it in a later layer's \"inputs\")");
  CHECK(graph_error(head + R"({"type": "Add", "inputs": ["a"]})" + tail) ==
        "g.json: /model/layers/1/inputs: Add merges two or more layers, got 1");
  CHECK(graph_error(head + R"({"type": "Concatenate"})" + tail) ==
        "g.json: /model/layers/1: Concatenate merges two or more layers, got 1; list them in "
        "\"inputs\"");
  CHECK(graph_error(head + R"({"type": "Dense", "units": 2, "inputs": ["a", "input"]})" + tail) ==
        "g.json: /model/layers/1/inputs: Dense reads one layer, got 2");
  CHECK_THAT(graph_error(head + R"({"type": "Subtract", "inputs": ["a", "a", "a"]})" + tail),
             Contains("/model/layers/1: Subtract \"subtract\": Subtract takes exactly two inputs, "
                      "got 3"));
  CHECK_THAT(
      graph_error(head + R"({"type": "Concatenate", "axis": 2, "inputs": ["a", "a"]})" + tail),
      Contains("/model/layers/1: Concatenate \"concatenate\": axis 2 is not an axis of inputs of "
               "shape (None, 4)"));
  CHECK_THAT(
      graph_error(head + R"({"type": "Concatenate", "axis": 0, "inputs": ["a", "a"]})" + tail),
      Contains("(0 is the batch axis)"));
  CHECK(graph_error(R"({"type": "Reshape", "target_shape": [2, 2], "name": "a"},
                       {"type": "Reshape", "target_shape": [4, 1], "name": "b", "inputs": ["input"]},
                       {"type": "Concatenate", "inputs": ["a", "b"]},
                       {"type": "Flatten"})" +
                    tail) ==
        "g.json: /model/layers/2/inputs: Concatenate \"concatenate\": \"a\" (None, 2, 2) and \"b\" "
        "(None, 4, 1) do not fit: Concatenate needs inputs of one shape but for axis -1");
  CHECK_THAT(graph_error(head + R"({"type": "Dense", "units": 4, "inputs": "a"})" + tail),
             Contains("/model/layers/1/inputs: expected"));
  CHECK_THAT(graph_error(head + R"({"type": "Dense", "units": 4, "inputs": [3]})" + tail),
             Contains("/model/layers/1/inputs: expected a list of layer names, got the list [3]"));
}

TEST_CASE("Summary of a graph model has Keras's Connected to column", "[graph][summary]") {
  Model m = Model::build(spec_of("[4]", R"(
      {"type": "Dense", "units": 4, "name": "a"},
      {"type": "Dense", "units": 4, "name": "b", "inputs": ["input"]},
      {"type": "Add", "inputs": ["a", "b"]},
      {"type": "Dense", "units": 3, "activation": "softmax"})"),
                         1);
  const auto rows = m.summary_rows();
  CHECK(rows[2].inputs == std::vector<std::string>{"a", "b"});
  CHECK(rows[0].inputs == std::vector<std::string>{"input"});
  const std::string table = summary_table(m, "g");
  CHECK_THAT(table, Contains("Connected to") && Contains("input (InputLayer)") &&
                        Contains("a[0][0]\n") && Contains("b[0][0]\n") && Contains("add (Add)"));
  Model seq =
      Model::build(spec_of("[4]", R"({"type": "Dense", "units": 3, "activation": "softmax"})"), 1);
  CHECK(seq.is_sequential());
  CHECK_THAT(summary_table(seq, "s"), !Contains("Connected to"));
}
