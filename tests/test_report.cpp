// The run report: its HTML is balanced and self-contained, its curves have one point per
// logged batch and epoch, the digit grid leads with the misrecognised digits in red, the
// confusion matrix adds up, predictions.png decodes, comparisons draw one curve per run, and
// bad logs give errors naming the file and line.
#include <stb_image.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>

#include "cli_runner.h"
#include "core/errors.h"
#include "report/confusion_matrix.h"
#include "report/digit_grid.h"
#include "report/html_text.h"
#include "report/report_html.h"
#include "report/report_writer.h"
#include "report/run_history.h"
#include "report/training_charts.h"
#include "report_checks.h"
#include "report_fixture.h"

using namespace mnistnet;
using namespace mnistnet::testing;
using Catch::Contains;

namespace {

std::string written_report(ReportRun& r) {
  Model model = tiny_report_model();
  write_run_report(r.run, model, "tiny", r.validation, r.predicted);
  return slurp(r.run / "report.html");
}

}  // namespace

TEST_CASE("Report page is balanced HTML and fetches nothing", "[report]") {
  ReportRun r;
  const std::string html = written_report(r);
  CHECK(tag_balance_problem(html).empty());
  INFO(tag_balance_problem(html));
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("http://") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
  CHECK(html.find("src=\"http") == std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  // Every image is inline.
  CHECK(count_of(html, "<img ") == count_of(html, "<img alt=\""));
  CHECK(count_of(html, "src=\"") == count_of(html, "src=\"data:image/png;base64,"));
  // The config and the summary are shown, escaped.
  CHECK_THAT(html, Contains("tiny &lt;test&gt; &amp; co") && Contains("Total params: 7,850"));
  CHECK(html.find("tiny <test>") == std::string::npos);
  // A finished run does not reload itself.
  CHECK(html.find("http-equiv=\"refresh\"") == std::string::npos);
}

TEST_CASE("Report curves: one point per logged batch, one per epoch, lr held through each epoch",
          "[report]") {
  ReportRun r(4, 6);
  const std::string html = written_report(r);
  for (const char* id : {"loss", "accuracy"}) {
    INFO(id);
    const std::string svg =
        element(html, std::string("<svg class=\"chart\" id=\"") + id + "\"", "</svg>");
    REQUIRE(!svg.empty());
    CHECK(tag_balance_problem(svg).empty());
    const auto batch = polyline_points(svg, "train-batch run-0");
    REQUIRE(batch.size() == 1);
    CHECK(batch[0].size() == 4 * 6);  // the rows of batches.csv
    const auto val = polyline_points(svg, "val-epoch run-0");
    REQUIRE(val.size() == 1);
    CHECK(val[0].size() == 4);  // the rows of metrics.csv
  }
  // Thin per batch, thick per epoch, as in the codelab.
  const std::string loss = element(html, "<svg class=\"chart\" id=\"loss\"", "</svg>");
  CHECK_THAT(
      loss,
      Contains("class=\"train-batch run-0\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1\"") &&
          Contains(
              "class=\"val-epoch run-0\" fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"3\""));
  const std::string lr = element(html, "<svg class=\"chart\" id=\"learning-rate\"", "</svg>");
  const auto steps = polyline_points(lr, "lr run-0");
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].size() == 2 * 4);
  CHECK_THAT(lr, Contains("Learning rate: decays from 0.01 to 0.00125"));
}

TEST_CASE("Report batch x positions are fractional epochs", "[report]") {
  ReportRun r(2, 4);
  const TrainingCharts charts = training_charts({read_run_history(r.run)});
  const ChartSeries& batch = charts.loss.series.at(0);
  REQUIRE(batch.points.size() == 8);
  CHECK(batch.points[0].x == Approx(0.25));
  CHECK(batch.points[3].x == Approx(1.0));
  CHECK(batch.points[4].x == Approx(1.25));
  const ChartSeries& val = charts.loss.series.at(1);
  CHECK(val.points[0].x == Approx(1.0));
  CHECK(val.points[1].x == Approx(2.0));
  CHECK(charts.loss.x_max == Approx(2.0));
}

TEST_CASE("Report zooms the axes like PlotTraining so validation values stay on them", "[report]") {
  RunHistory good{"good", {}, {}};
  for (int e = 0; e < 3; ++e) good.epochs.push_back({e, 0.99, 0.03, 0.01, 0.985, 0.05, 1.0});
  CHECK(training_charts({good}).zoom == 16.0);  // loss to 0.075, accuracy from 0.96875
  RunHistory poor{"poor", {}, {}};
  poor.epochs.push_back({0, 0.2, 2.2, 0.01, 0.15, 2.1, 1.0});
  const TrainingCharts c = training_charts({poor});
  CHECK(c.loss.y_max >= 2.1 / 0.92);
  CHECK(c.accuracy.y_min == 0.0);
}

TEST_CASE("Report digit grid shows the misrecognised digits first, in red", "[report]") {
  ReportRun r;
  const std::string html = written_report(r);
  const std::vector<std::string> figures = classes_of(html, "<figure class=\"");
  REQUIRE(figures.size() == 50);  // fewer than the limit: all of them
  REQUIRE(r.wrong == 8);          // examples 0, 7, ..., 49
  for (size_t i = 0; i < figures.size(); ++i) {
    INFO(i);
    CHECK(figures[i] == (i < 8 ? "digit wrong" : "digit right"));
  }
  CHECK_THAT(html, Contains(".digit.wrong figcaption { color: #d62728; }"));
  // Example 7 (label 7) was predicted 8: caption "8 (7)".
  CHECK_THAT(html, Contains("title=\"validation example 7: label 7, predicted 8\"><img alt=\"7\" "
                            "src=\"data:image/png;base64,"));
  CHECK_THAT(html, Contains("<figcaption>8 <span class=\"truth\">(7)</span></figcaption>"));
  CHECK_THAT(html, Contains("<b>8</b> of 50 validation digits misrecognised"));

  const auto order = grid_examples(r.validation, r.predicted, 10);
  CHECK(order == std::vector<int64_t>{0, 7, 14, 21, 28, 35, 42, 49, 1, 2});
  CHECK(grid_examples(r.validation, r.predicted, 3) == std::vector<int64_t>{0, 7, 14});
}

TEST_CASE("Report confusion matrix counts add up to the examples", "[report]") {
  ReportRun r;
  const std::string html = written_report(r);
  const std::string table = element(html, "<table class=\"confusion\">", "</table>");
  REQUIRE(!table.empty());
  const std::regex cell("<td class=\"cm( diag| zero)?\"( style=\"[^\"]*\")?>([0-9]+)</td>");
  int64_t total = 0, diagonal = 0, cells = 0;
  for (auto it = std::sregex_iterator(table.begin(), table.end(), cell);
       it != std::sregex_iterator(); ++it) {
    const int64_t n = std::stoll((*it)[3]);
    total += n;
    if ((*it)[1] == " diag") diagonal += n;
    ++cells;
  }
  CHECK(cells == 100);
  CHECK(total == 50);
  CHECK(diagonal == 50 - r.wrong);

  const ConfusionMatrix m = confusion_matrix(r.validation.labels, r.predicted, 10);
  CHECK(m.at(7, 8) == 1);  // example 7
  CHECK(m.at(0, 1) == 1);  // example 0
  CHECK(m.at(9, 0) == 1);  // example 49
  CHECK(m.at(3, 3) == 5);  // 3, 13, 23, 33, 43: none a multiple of 7
  CHECK_THROWS_AS(confusion_matrix(r.validation.labels, {1, 2}, 10), std::invalid_argument);
  CHECK_THROWS_AS(confusion_matrix({3}, {12}, 10), std::invalid_argument);
}

TEST_CASE("predictions.png decodes to the grid's size with red marks on wrong digits only",
          "[report]") {
  ReportRun r;
  (void)written_report(r);
  const std::vector<uint8_t> png = read_bytes(r.run / "predictions.png");
  int width = 0, height = 0, channels = 0;
  uint8_t* pixels = stbi_load_from_memory(png.data(), static_cast<int>(png.size()), &width, &height,
                                          &channels, 3);
  REQUIRE(pixels != nullptr);
  const ImageSize expected = predictions_png_size(28, 28, 50);
  CHECK(width == expected.width);
  CHECK(height == expected.height);
  CHECK(expected.width == 10 * 64);
  // Cells are width/10 wide; the first 8 are wrong (red frame), the ninth is right.
  const int cell_w = width / 10, cell_h = height / 5;
  auto red_in_cell = [&](int n) {
    int red = 0;
    for (int y = (n / 10) * cell_h; y < (n / 10 + 1) * cell_h; ++y)
      for (int x = (n % 10) * cell_w; x < (n % 10 + 1) * cell_w; ++x) {
        const uint8_t* p =
            pixels +
            (static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)) * 3;
        red += p[0] > 180 && p[1] < 80 && p[2] < 80;
      }
    return red;
  };
  CHECK(red_in_cell(0) > 200);
  CHECK(red_in_cell(7) > 200);
  CHECK(red_in_cell(8) == 0);
  CHECK(red_in_cell(49) == 0);
  stbi_image_free(pixels);
}

TEST_CASE("Report comparison overlays one curve per run with a legend", "[report]") {
  ReportRun a(3, 5), b(2, 4), c(4, 5, 50, false);
  std::vector<RunHistory> runs = {read_run_history(a.run), read_run_history(b.run),
                                  read_run_history(c.run)};
  runs[0].name = "lr-0.01", runs[1].name = "lr-0.003", runs[2].name = "old <run>";
  const std::string html = render_comparison_html(runs);
  CHECK(tag_balance_problem(html).empty());
  CHECK(html.find("http://") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
  const std::string loss = element(html, "<svg class=\"chart\" id=\"loss\"", "</svg>");
  for (int i = 0; i < 3; ++i) {
    INFO(i);
    const std::string run = " run-" + std::to_string(i);
    REQUIRE(polyline_points(loss, "val-epoch" + run).size() == 1);
    CHECK(polyline_points(loss, "val-epoch" + run)[0].size() ==
          runs[static_cast<size_t>(i)].epochs.size());
  }
  CHECK(polyline_points(loss, "train-batch run-0")[0].size() == 15);
  CHECK(polyline_points(loss, "train-batch run-1")[0].size() == 8);
  CHECK(polyline_points(loss, "train-epoch run-2")[0].size() == 4);  // no batches.csv
  CHECK(count_of(loss, "<polyline") == 6);
  // Each run in its own colour, named in the legend table.
  CHECK_THAT(loss, Contains("class=\"val-epoch run-1\" fill=\"none\" stroke=\"#ff7f0e\""));
  CHECK(count_of(html, "<tr class=\"run run-") == 3);
  CHECK_THAT(html, Contains("lr-0.003") && Contains("old &lt;run&gt;"));
  CHECK(count_of(element(html, "<svg class=\"chart\" id=\"learning-rate\"", "</svg>"),
                 "<polyline") == 3);
}

TEST_CASE("Report of a run without batches.csv draws per-epoch training values", "[report]") {
  ReportRun r(3, 5, 50, false);
  const std::string html = written_report(r);
  const std::string loss = element(html, "<svg class=\"chart\" id=\"loss\"", "</svg>");
  CHECK(polyline_points(loss, "train-batch run-0").empty());
  REQUIRE(polyline_points(loss, "train-epoch run-0").size() == 1);
  CHECK(polyline_points(loss, "train-epoch run-0")[0].size() == 3);
  CHECK_THAT(html, Contains("has no batches.csv"));
}

TEST_CASE("Report errors name the file and the line", "[report]") {
  ReportRun r;
  const std::string metrics = (r.run / "metrics.csv").string();
  SECTION("missing metrics.csv") {
    std::filesystem::remove(r.run / "metrics.csv");
    CHECK_THROWS_WITH(read_run_history(r.run), Contains(metrics) && Contains("cannot open"));
    CHECK_THROWS_AS(written_report(r), DataError);
  }
  SECTION("malformed number") {
    write_text(r.run, "metrics.csv", metrics_text(1) + "1,0.9,abc,0.01,0.9,0.3,1.0\n");
    CHECK_THROWS_WITH(read_run_history(r.run),
                      Contains(metrics + ": line 3: loss: expected a number, got \"abc\""));
  }
  SECTION("short row") {
    write_text(r.run, "metrics.csv", metrics_text(2) + "2,0.9\n");
    CHECK_THROWS_WITH(read_run_history(r.run),
                      Contains(metrics + ": line 4: expected 7 comma-separated fields, got 2"));
  }
  SECTION("missing column") {
    write_text(r.run, "metrics.csv", "epoch,accuracy,loss\n0,0.9,0.3\n");
    CHECK_THROWS_WITH(read_run_history(r.run),
                      Contains(metrics + ": line 1: the header lacks the column \"val_accuracy\""));
  }
  SECTION("empty file") {
    write_text(r.run, "metrics.csv", "");
    CHECK_THROWS_WITH(read_run_history(r.run), Contains(metrics + ": line 1: empty file"));
  }
  SECTION("fractional epoch") {
    write_text(r.run, "metrics.csv", metrics_text(0) + "0.5,0.9,0.3,0.01,0.9,0.3,1.0\n");
    CHECK_THROWS_WITH(read_run_history(r.run), Contains(metrics + ": line 2: epoch"));
  }
  SECTION("malformed batches.csv") {
    write_text(r.run, "batches.csv", batches_text(1, 2) + "0,x,0.3,0.9\n");
    CHECK_THROWS_WITH(read_run_history(r.run),
                      Contains((r.run / "batches.csv").string() + ": line 4"));
  }
  SECTION("malformed config.json") {
    write_text(r.run, "config.json", "{\"name\": ");
    CHECK_THROWS_WITH(written_report(r),
                      Contains((r.run / "config.json").string() + ": not valid JSON"));
  }
  SECTION("older logs without lr and seconds still read") {
    write_text(r.run, "metrics.csv",
               "epoch,loss,accuracy,val_loss,val_accuracy\n0,0.3,0.9,0.25,0.92\n");
    const RunHistory h = read_run_history(r.run);
    REQUIRE(h.epochs.size() == 1);
    CHECK(h.epochs[0].loss == 0.3);
    CHECK(h.epochs[0].val_accuracy == 0.92);
    CHECK(h.epochs[0].lr == 0.0);
  }
}

TEST_CASE("Report run names come from the directory", "[report]") {
  CHECK(run_name("runs/conv_bn_s42") == "conv_bn_s42");
  CHECK(run_name("runs/conv_bn_s42/") == "conv_bn_s42");
  CHECK(run_name("runs/x/./") == "x");
  CHECK(!run_name(".").empty());
}

TEST_CASE("Report text helpers: base64 and escaping", "[report]") {
  CHECK(base64_encode({}) == "");
  CHECK(base64_encode({'M'}) == "TQ==");
  CHECK(base64_encode({'M', 'a'}) == "TWE=");
  CHECK(base64_encode({'M', 'a', 'n'}) == "TWFu");
  CHECK(base64_encode({0xff, 0xfe, 0x00, 0x10}) == "//4AEA==");
  CHECK(html_escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;");
}

TEST_CASE("ReportWriter rewrites the report after each epoch and reloads while training",
          "[report]") {
  ReportRun r(2, 5);
  Model model = tiny_report_model();
  ReportWriter writer(r.run, "tiny", r.validation);
  writer.on_epoch_begin(1, 5, 5, 0.01);
  writer.on_validation(model, r.predicted);
  std::string html = slurp(r.run / "report.html");
  CHECK_THAT(html, Contains("<meta http-equiv=\"refresh\" content=\"30\">") &&
                       Contains("epoch 2 of 5 done"));
  CHECK(std::filesystem::exists(r.run / "predictions.png"));
  // The last epoch: the page stops reloading.
  write_text(r.run, "metrics.csv", metrics_text(5));
  writer.on_epoch_begin(4, 5, 5, 0.01);
  writer.on_validation(model, r.predicted);
  html = slurp(r.run / "report.html");
  CHECK(html.find("refresh") == std::string::npos);
  // Axes span the planned epochs while training, so they hold still between reloads.
  const TrainingCharts charts = training_charts({read_run_history(r.run)}, 8);
  CHECK(charts.loss.x_max == 8.0);
}

// Speed is a benchmark's business (a 10,000-digit report takes ~0.1 s here); this checks that
// the full-size case works: both files appear after an epoch's validation.
TEST_CASE("ReportWriter writes the report and the grid for 10,000 validation digits", "[report]") {
  ReportRun r(10, 469, 10000);
  Model model = tiny_report_model();
  ReportWriter writer(r.run, "tiny", r.validation);
  writer.on_epoch_begin(9, 10, 469, 0.01);
  writer.on_validation(model, r.predicted);
  CHECK(std::filesystem::file_size(r.run / "report.html") > 0);
  CHECK(std::filesystem::file_size(r.run / "predictions.png") > 0);
}
