#include "cli/command_line_errors.h"

#include "core/did_you_mean.h"

namespace mnistnet {

namespace {

const CommandLineCommand* find_command(const std::vector<CommandLineCommand>& commands,
                                       const std::string& name) {
  for (const CommandLineCommand& c : commands)
    if (c.name == name) return &c;
  return nullptr;
}

const CommandLineOption* find_option(const CommandLineCommand& command, const std::string& name) {
  for (const CommandLineOption& o : command.options)
    for (const std::string& n : o.names)
      if (n == name) return &o;
  return nullptr;
}

std::string command_list(const std::vector<CommandLineCommand>& commands) {
  std::string list;
  for (const CommandLineCommand& c : commands) list += (list.empty() ? "" : ", ") + c.name;
  return list;
}

// An option word: "--x", "--x=1", "-x"; not "-" (stdin), "--" or a negative number.
bool is_option_word(const std::string& arg) {
  if (arg.size() < 2 || arg[0] != '-' || arg == "--") return false;
  return !(arg[1] >= '0' && arg[1] <= '9') && arg[1] != '.';
}

std::string unknown_option(const CommandLineCommand& command, const std::string& name,
                           const std::string& value) {
  const std::string key = keras_flag_key_path(name);
  if (!key.empty() && find_option(command, "--set"))
    return "unknown option " + name + "; use --set " + key + "=" + (value.empty() ? "N" : value);
  std::vector<std::string> names;
  for (const CommandLineOption& o : command.options)
    for (const std::string& n : o.names) names.push_back(n);
  const std::string guess = did_you_mean(name, names, false);
  return "unknown option " + name + " for " + command.name +
         (guess.empty() ? " (mnistnet " + command.name + " --help lists them)" : guess);
}

}  // namespace

std::string keras_flag_key_path(const std::string& flag) {
  static const std::vector<std::pair<std::vector<std::string>, std::string>> kFlags = {
      {{"--epochs", "--epoch"}, "training.epochs"},
      {{"--batch-size", "--batch_size", "--batchsize", "-b"}, "training.batch_size"},
      {{"--lr", "--learning-rate", "--learning_rate", "--learningrate"},
       "training.optimizer.learning_rate"},
      {{"--optimizer"}, "training.optimizer.type"},
      {{"--seed"}, "seed"},
  };
  for (const auto& [names, path] : kFlags)
    for (const std::string& n : names)
      if (n == flag) return path;
  return "";
}

std::string explain_command_line(const std::vector<CommandLineCommand>& commands,
                                 const std::vector<std::string>& args,
                                 const std::string& parser_message) {
  if (args.empty())
    return "give a command: " + command_list(commands) + " (mnistnet help COMMAND tells more)";
  const std::string& first = args[0];
  if (is_option_word(first)) {
    const std::string name = first.substr(0, first.find('='));
    return "unknown option " + name + did_you_mean(name, {"--help", "--version"}, false) +
           "; the command comes first: mnistnet COMMAND [OPTIONS] (commands: " +
           command_list(commands) + ")";
  }
  const CommandLineCommand* command = find_command(commands, first);
  if (!command) {
    std::vector<std::string> names;
    for (const CommandLineCommand& c : commands) names.push_back(c.name);
    const std::string guess = did_you_mean(first, names);
    return "unknown command \"" + first + "\"" +
           (guess.empty() ? "; the commands are " + command_list(commands) : guess);
  }
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") break;
    if (!is_option_word(arg)) continue;
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    if (const CommandLineOption* option = find_option(*command, name)) {
      if (option->takes_value && eq == std::string::npos) ++i;  // its value, whatever it is
      continue;
    }
    std::string value;
    if (eq != std::string::npos)
      value = arg.substr(eq + 1);
    else if (i + 1 < args.size() && !is_option_word(args[i + 1]))
      value = args[i + 1];
    return unknown_option(*command, name, value);
  }
  return command->name + ": " + parser_message;
}

}  // namespace mnistnet
