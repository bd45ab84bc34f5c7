// The command line's own mistakes, as a user fresh from Keras makes them: one line in
// mnistnet's voice (the "mnistnet: error: " prefix, exit 2), with a suggestion where one exists.
#include <catch2/catch.hpp>

#include "cli/command_line_errors.h"
#include "cli_runner.h"
#include "core/did_you_mean.h"
#include "synthetic_idx.h"
#include "text_file.h"

using namespace mnistnet;
using namespace mnistnet::testing;
using Catch::Contains;
using Catch::StartsWith;

namespace {

struct Cli {
  TempDir dir;
  CliResult run(const std::string& args) { return run_cli(args, dir.path, dir.path); }
  // The one line of a refused command line, after checking it is one line and exit 2.
  std::string error(const std::string& args) {
    const CliResult r = run(args);
    INFO(args << "\n" << r.out << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, StartsWith("mnistnet: error: "));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    return r.err;
  }
};

}  // namespace

TEST_CASE("Edit distance counts a swap of neighbours as one edit", "[cli][errors]") {
  CHECK(edit_distance("trian", "train") == 1);
  CHECK(edit_distance("cofig", "config") == 1);
  CHECK(edit_distance("shufle_buffer", "shuffle_buffer") == 1);
  CHECK(edit_distance("Adam", "adam") == 0);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(nearest_word("trian", {"eval", "train"}) == "train");
  CHECK_FALSE(nearest_word("frobnicate", {"eval", "train"}));
  CHECK_FALSE(nearest_word("train", {"eval", "train"}));  // not a typo
  CHECK(did_you_mean("--cofig", {"--config", "--set"}, false) == "; did you mean --config?");
}

TEST_CASE("An unknown command gets did-you-mean, or the list of commands", "[cli][errors][e2e]") {
  Cli cli;
  CHECK(cli.error("trian") ==
        "mnistnet: error: unknown command \"trian\"; did you mean \"train\"?\n");
  CHECK(cli.error("evl") == "mnistnet: error: unknown command \"evl\"; did you mean \"eval\"?\n");
  CHECK_THAT(cli.error("frobnicate"),
             Contains("unknown command \"frobnicate\"; the commands are train, eval, summary"));
  CHECK_THAT(cli.error(""), Contains("give a command: train, eval"));
  CHECK_THAT(cli.error("--cofig x.json"),
             Contains("unknown option --cofig; the command comes first: mnistnet COMMAND"));
}

TEST_CASE("An unknown option gets did-you-mean, Keras's flags get their --set key",
          "[cli][errors][e2e]") {
  Cli cli;
  CHECK(cli.error("train --cofig c.json") ==
        "mnistnet: error: unknown option --cofig for train; did you mean --config?\n");
  CHECK(cli.error("train --config c.json --epochs 3") ==
        "mnistnet: error: unknown option --epochs; use --set training.epochs=3\n");
  CHECK(cli.error("train --epochs=3") ==
        "mnistnet: error: unknown option --epochs; use --set training.epochs=3\n");
  CHECK(cli.error("train --batch-size 64") ==
        "mnistnet: error: unknown option --batch-size; use --set training.batch_size=64\n");
  CHECK(cli.error("train --learning-rate 0.01") ==
        "mnistnet: error: unknown option --learning-rate; use "
        "--set training.optimizer.learning_rate=0.01\n");
  CHECK(cli.error("sweep --lr 0.1") ==
        "mnistnet: error: unknown option --lr; use --set training.optimizer.learning_rate=0.1\n");
  CHECK(cli.error("summary --epochs") ==
        "mnistnet: error: unknown option --epochs; use --set training.epochs=N\n");
  // eval has a --batch-size of its own, and no --set: its typos are typos.
  CHECK(cli.error("eval --batchsize 5") ==
        "mnistnet: error: unknown option --batchsize for eval; did you mean --batch-size?\n");
  CHECK_THAT(cli.error("eval --zzz"),
             Contains("unknown option --zzz for eval (mnistnet eval --help lists them)"));
  // An option's value is not mistaken for an option: --set's "-x" style values stay values.
  CHECK_THAT(cli.error("train --set a=1 --cofig x"), Contains("did you mean --config?"));
}

TEST_CASE("A bad number says it is not a number, ranges say the bound", "[cli][errors][e2e]") {
  Cli cli;
  CHECK(cli.error("eval --batch-size abc") ==
        "mnistnet: error: eval: --batch-size: \"abc\" is not a number; expected a positive "
        "integer\n");
  CHECK(cli.error("eval --batch-size 1.5") ==
        "mnistnet: error: eval: --batch-size: \"1.5\" is not a number; expected a positive "
        "integer\n");
  CHECK_THAT(cli.error("eval --batch-size 0"),
             Contains("--batch-size: expected a positive integer up to 2147483647, got 0"));
  const std::string config = write_text(cli.dir.path, "c.json", "{}");
  CHECK_THAT(cli.error("bench --config '" + config + "' --warmup -1"),
             Contains("--warmup: expected a non-negative integer"));
  CHECK_THAT(cli.error("sweep --jobs 99999999999999999999"),
             Contains("--jobs: expected a positive integer up to 2147483647"));
}

TEST_CASE("Other parser complaints are one line naming the command", "[cli][errors][e2e]") {
  Cli cli;
  CHECK_THAT(cli.error("train extra"), Contains("mnistnet: error: train: "));
  CHECK_THAT(cli.error("predict"),
             Contains("mnistnet: error: predict: give image files, or --csv FILE --out FILE"));
}

TEST_CASE("Help texts carry no validator noise, help and version are commands", "[cli][e2e]") {
  Cli cli;
  const CliResult help = cli.run("eval --help");
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Contains("--batch-size"));
  CHECK_THAT(help.out, !Contains("2147483647") && !Contains("INT:"));
  for (const char* command : {"train", "bench", "sweep"}) {
    const CliResult h = cli.run(std::string(command) + " --help");
    CHECK_THAT(h.out, !Contains("2147483647"));
  }

  const CliResult top = cli.run("help");
  CHECK(top.exit_code == 0);
  CHECK_THAT(top.out, Contains("train") && Contains("eval") && Contains("version"));
  const CliResult topic = cli.run("help eval");
  CHECK(topic.exit_code == 0);
  CHECK_THAT(topic.out, Contains("--batch-size") && Contains("Evaluate a saved model"));
  CHECK(cli.error("help trian") ==
        "mnistnet: error: unknown command \"trian\"; did you mean \"train\"?\n");

  const CliResult version = cli.run("version");
  CHECK(version.exit_code == 0);
  CHECK(version.out == cli.run("--version").out);
  CHECK_THAT(version.out, StartsWith("mnistnet "));
}

TEST_CASE("explain_command_line walks past option values", "[cli][errors]") {
  const std::vector<CommandLineCommand> commands = {
      {"train", {{{"-c", "--config"}, true}, {{"--set"}, true}, {{"-q", "--quiet"}, false}}}};
  CHECK(explain_command_line(commands, {"train", "-c", "--epochs", "-q", "--epoch", "2"}, "x") ==
        "unknown option --epoch; use --set training.epochs=2");
  CHECK(explain_command_line(commands, {"train", "-q", "--", "--cofig"}, "parser says") ==
        "train: parser says");
  CHECK(keras_flag_key_path("--seed") == "seed");
  CHECK(keras_flag_key_path("--config").empty());
}
