#pragma once
// The message for a command line the parser refused, in mnistnet's own words and with a
// suggestion where there is one: `unknown command "trian"; did you mean "train"?`,
// `unknown option --cofig; did you mean --config?`, and for the flags a Keras user reaches for
// first, the config key that does it: `unknown option --epochs; use --set training.epochs=3`.
// Free of the command-line library: main.cpp describes its commands with these structs.
#include <string>
#include <vector>

namespace mnistnet {

struct CommandLineOption {
  std::vector<std::string> names;  // with their dashes: "-c", "--config"
  bool takes_value = false;        // --config FILE (a flag such as --json takes none)
};

struct CommandLineCommand {
  std::string name;
  std::vector<CommandLineOption> options;
};

// `args` are the words after the program name; `parser_message` is the parser's own one-line
// complaint, used (after the command's name) when no better explanation is found.
std::string explain_command_line(const std::vector<CommandLineCommand>& commands,
                                 const std::vector<std::string>& args,
                                 const std::string& parser_message);

// The --set key path of a Keras-style flag (--epochs, --batch-size, --lr ...), or "".
std::string keras_flag_key_path(const std::string& flag);

}  // namespace mnistnet
