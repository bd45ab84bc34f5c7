// mnistnet eval: a saved model on its data set's test split (or any labelled data --data names),
// with Keras's evaluate numbers, a per-class table and the confusion matrix.
#include <algorithm>
#include <cstdio>

#include "cli/commands.h"
#include "cli/ensemble.h"
#include "cli/latest_run.h"
#include "core/denormals.h"
#include "data/model_data.h"
#include "model/model_file.h"
#include "report/confusion_matrix.h"
#include "train/trainer.h"

namespace mnistnet {

namespace {

void print_class_table(const ModelMeta& meta, const ConfusionMatrix& m) {
  const std::vector<ClassScores> scores = class_scores(m);
  int width = 5;
  for (int c = 0; c < m.classes; ++c)
    width = std::max(width, static_cast<int>(class_name(meta, c).size()));
  std::printf("\n%-*s  precision  recall  f1-score  support\n", width, "class");
  for (int c = 0; c < m.classes; ++c) {
    const ClassScores& s = scores[static_cast<size_t>(c)];
    std::printf("%-*s  %9.4f  %6.4f  %8.4f  %7lld\n", width, class_name(meta, c).c_str(),
                s.precision, s.recall, s.f1, static_cast<long long>(s.support));
  }
  std::printf("\nconfusion matrix (rows: true class, columns: predicted, in the order above)\n");
  for (int t = 0; t < m.classes; ++t) {
    for (int p = 0; p < m.classes; ++p)
      std::printf("%s%6lld", p == 0 ? "" : " ", static_cast<long long>(m.at(t, p)));
    std::printf("\n");
  }
}

}  // namespace

int run_eval(const EvalOptions& options) {
  flush_denormals_to_zero();
  std::vector<EnsembleMember> members = load_ensemble(options.models);
  const auto& model_path = members.front().path;
  LoadedModel& loaded = members.front().loaded;
  const Dataset test = load_evaluation_data(loaded.meta, options.data_dir, model_path.string());
  for (EnsembleMember& m : members)
    check_data_fits_model(m.loaded.model, test, test.source + " (model " + m.path.string() + ")");
  const int64_t batch =
      options.batch_size > 0 ? options.batch_size : loaded.meta.validation_batch_size;
  std::vector<int32_t> predicted;
  // One model: Keras's evaluate (its loss from the logits, regularizers included); several: the
  // mean of their probabilities.
  const Evaluation e =
      members.size() == 1
          ? evaluate(loaded.model, test, batch, static_cast<float>(1.0 / loaded.meta.pixel_divisor),
                     &predicted)
          : evaluate_ensemble(members, test, batch, &predicted);
  const ConfusionMatrix m =
      confusion_matrix(test.labels, predicted, static_cast<int>(loaded.model.num_outputs()));
  if (options.json) {
    nlohmann::ordered_json classes = nlohmann::ordered_json::array();
    const std::vector<ClassScores> scores = class_scores(m);
    for (int c = 0; c < m.classes; ++c) {
      const ClassScores& s = scores[static_cast<size_t>(c)];
      classes.push_back({{"name", class_name(loaded.meta, c)},
                         {"precision", s.precision},
                         {"recall", s.recall},
                         {"f1", s.f1},
                         {"support", s.support}});
    }
    nlohmann::ordered_json confusion = nlohmann::ordered_json::array();
    for (int t = 0; t < m.classes; ++t) {
      nlohmann::ordered_json row = nlohmann::ordered_json::array();
      for (int p = 0; p < m.classes; ++p) row.push_back(m.at(t, p));
      confusion.push_back(row);
    }
    nlohmann::ordered_json models = nlohmann::ordered_json::array();
    for (const EnsembleMember& member : members) models.push_back(member.path.string());
    nlohmann::ordered_json out = {{"accuracy", e.accuracy}, {"loss", e.loss},
                                  {"count", e.count},       {"model", model_path.string()},
                                  {"models", models},       {"data", test.source},
                                  {"classes", classes},     {"confusion_matrix", confusion}};
    std::printf("%s\n",
                out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
  } else {
    std::printf("Model %s, test data %s\n", ensemble_name(members).c_str(), test.source.c_str());
    std::printf("%lld/%lld - loss: %.4f - accuracy: %.4f\n", static_cast<long long>(e.count),
                static_cast<long long>(e.count), e.loss, e.accuracy);
    print_class_table(loaded.meta, m);
  }
  return 0;
}

}  // namespace mnistnet
