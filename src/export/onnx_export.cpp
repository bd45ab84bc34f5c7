#include "export/onnx_export.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "core/errors.h"
#include "export/export_metadata.h"

namespace mnistnet {
namespace {

using onnx_export::Layout;
using onnx_export::OnnxGraph;
using onnx_export::Value;

void set_dims(onnx::ValueInfoProto* info, const std::vector<int64_t>& dims) {
  info->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  onnx::TensorShapeProto* shape = info->mutable_type()->mutable_tensor_type()->mutable_shape();
  shape->add_dim()->set_dim_param("N");  // the batch: any size
  for (size_t i = 1; i < dims.size(); ++i) shape->add_dim()->set_dim_value(dims[i]);
}

// The graph input and the value the first layer reads. mnistnet's MNIST models take the
// flat 784 pixels of a 28x28 grey image; the export takes the image itself, which for one
// channel has the same element order, so the flattening costs no node.
Value graph_input(onnx::GraphProto& proto, OnnxGraph& g, const Shape& model_input,
                  OnnxLayout layout) {
  Value in;
  in.name = g.unique_name("input");
  const bool flat_mnist = model_input.size() == 1 && model_input[0] == 28 * 28;
  in.shape = flat_mnist ? Shape{28, 28, 1} : model_input;
  const bool image = in.shape.size() == 3;
  in.layout = image && layout == OnnxLayout::nchw ? Layout::channels_first : Layout::keras;
  onnx::ValueInfoProto* info = proto.add_input();
  info->set_name(in.name);
  set_dims(info, onnx_export::onnx_dims(in));
  return flat_mnist ? onnx_export::flatten(g, in) : in;
}

// Params of the layer named `group` are "group/kernel" ...: model.params() keeps layer order,
// so each layer takes the run of entries with its prefix.
std::map<std::string, ParamRef> layer_params(const std::vector<ParamRef>& all, size_t& next,
                                             const std::string& group) {
  std::map<std::string, ParamRef> out;
  const std::string prefix = group + "/";
  while (next < all.size() && all[next].name.compare(0, prefix.size(), prefix) == 0) {
    ParamRef p = all[next++];
    p.name.erase(0, prefix.size());
    out.emplace(p.name, p);
  }
  return out;
}

// The tensors a layer reads: those of the layers its "inputs" argument names (Keras's
// functional API: a name or a list of names; "input" is the model's input), else the previous
// layer's output, as in a sequential model.
std::vector<Value> layer_inputs(const nlohmann::json& args,
                                const std::map<std::string, Value>& by_name, const Value& previous,
                                const std::string& where) {
  if (!args.is_object() || !args.contains("inputs")) return {previous};
  const nlohmann::json& names = args["inputs"];
  std::vector<Value> out;
  for (const auto& name : names.is_array() ? names : nlohmann::json::array({names})) {
    auto it = name.is_string() ? by_name.find(name.get<std::string>()) : by_name.end();
    if (it == by_name.end()) throw UserError(where + ": /inputs: no earlier layer " + name.dump());
    out.push_back(it->second);
  }
  return out;
}

std::string known_types(const onnx_export::ExportTable& table) {
  std::string names;
  for (const auto& [name, row] : table) names += (names.empty() ? "" : ", ") + name;
  return names;
}

// Layout changes are emitted when asked for, and a chain of Reshapes that comes back to where it
// started reads the first tensor directly (tensor_layout.h): the Reshapes left unread go, and
// the initializers only they read.
void prune_unread(onnx::GraphProto& graph) {
  for (bool removed = true; removed;) {
    removed = false;
    std::set<std::string> read;
    for (const auto& n : graph.node()) read.insert(n.input().begin(), n.input().end());
    for (const auto& o : graph.output()) read.insert(o.name());
    auto* nodes = graph.mutable_node();
    for (int i = nodes->size() - 1; i >= 0; --i) {
      if (read.count(nodes->Get(i).output(0)) != 0) continue;
      nodes->DeleteSubrange(i, 1);
      removed = true;
    }
    if (removed) continue;
    auto* inits = graph.mutable_initializer();
    for (int i = inits->size() - 1; i >= 0; --i)
      if (read.count(inits->Get(i).name()) == 0) inits->DeleteSubrange(i, 1);
  }
}

void check(onnx::ModelProto& model) {
  try {
    onnx::checker::check_model(model);
    onnx::ModelProto inferred = model;  // strict: a node whose shapes do not fit throws
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(true, 1, true));
  } catch (const std::exception& e) {
    throw std::logic_error(std::string("the exported ONNX graph fails ONNX's checker: ") +
                           e.what());
  }
}

}  // namespace

std::string export_onnx(LoadedModel& loaded, const std::string& source,
                        const OnnxExportOptions& options, const onnx_export::ExportTable& table) {
  if (options.opset < kMinOnnxOpset || options.opset > kMaxOnnxOpset) {
    throw UserError("--opset: expected " + std::to_string(kMinOnnxOpset) + " to " +
                    std::to_string(kMaxOnnxOpset) + ", got " + std::to_string(options.opset));
  }
  Model& model = loaded.model;
  onnx::ModelProto proto;
  proto.set_ir_version(onnx::IR_VERSION);
  proto.set_producer_name("mnistnet");
  proto.set_producer_version(MNISTNET_VERSION);
  onnx::OperatorSetIdProto* opset = proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(options.opset);
  onnx::GraphProto& graph = *proto.mutable_graph();
  graph.set_name(loaded.meta.name.empty() ? "mnistnet" : loaded.meta.name);
  OnnxGraph g(graph);

  Value v = graph_input(graph, g, model.input_shape(), options.layout);
  const std::vector<ParamRef> params = model.params();
  const std::vector<SummaryRow> rows = model.summary_rows();
  const ModelSpec& spec = model.spec();
  size_t next_param = 0;
  std::map<std::string, Value> by_name{{"input", v}};
  for (size_t i = 0; i < rows.size(); ++i) {
    const LayerSpec& layer = spec.layers[i];
    const std::string where =
        source + ": " + layer.pointer + " (" + rows[i].name + ", " + rows[i].type + ")";
    auto row = table.find(rows[i].type);
    if (row == table.end()) {
      throw UserError(where + ": no ONNX export for layer type " + rows[i].type +
                      " (exportable: " + known_types(table) + ")");
    }
    JsonFields args(layer.args, source, layer.pointer);
    onnx_export::LayerExport e{g,
                               where,
                               rows[i].name,
                               args,
                               layer_inputs(layer.args, by_name, v, where),
                               rows[i].output,
                               layer_params(params, next_param, rows[i].name)};
    v = row->second(e);
    by_name[rows[i].name] = v;
  }
  if (next_param != params.size())
    throw std::logic_error("export: parameters left over after the last layer");
  if (!model.ends_with_softmax()) {
    JsonFields none(nlohmann::json::object(), source, "");
    onnx_export::LayerExport e{g, source, "output", none, {v}, v.shape, {}};
    v = onnx_export::export_activation(e, v, "softmax");
  }
  v = onnx_export::to_keras(g, v);
  onnx::ValueInfoProto* out = graph.add_output();
  out->set_name(v.name);
  prune_unread(graph);
  // Rename the final tensor "probabilities" (the softmax is always the last node).
  onnx::NodeProto& last = *graph.mutable_node(graph.node_size() - 1);
  if (last.output(0) != v.name) throw std::logic_error("export: the softmax is not the last node");
  last.set_output(0, "probabilities");
  last.set_name("probabilities");
  out->set_name("probabilities");
  set_dims(out, onnx_export::onnx_dims(v));

  for (const auto& [key, value] : onnx_export::export_metadata(loaded, options)) {
    onnx::StringStringEntryProto* prop = proto.add_metadata_props();
    prop->set_key(key);
    prop->set_value(value);
  }
  proto.set_doc_string(onnx_export::input_description(loaded, options));
  check(proto);
  std::string bytes;
  if (!proto.SerializeToString(&bytes))
    throw std::logic_error("export: protobuf serialization failed");
  return bytes;
}

}  // namespace mnistnet
