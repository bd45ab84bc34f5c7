#include "sweep/sweep_spec.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "config/config_loader.h"
#include "config/json_fields.h"
#include "core/errors.h"
#include "core/rng.h"
#include "model/model.h"

namespace mnistnet {
namespace {

using ordered = nlohmann::ordered_json;

// RFC 6901: "~" -> "~0", "/" -> "~1".
std::string escape_pointer(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

nlohmann::json plain(const ordered& value) { return nlohmann::json::parse(value.dump()); }

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& pointer, const std::string& what) const {
    throw ConfigError(source_ + ": " + (pointer.empty() ? "/" : pointer) + ": " + what);
  }

  void require_object(const ordered& value, const std::string& pointer) const {
    if (!value.is_object()) fail(pointer, "expected an object, got " + describe_json(plain(value)));
  }

  void check_key_path(const std::string& path, const std::string& pointer) const {
    if (path.empty() || path.front() == '.' || path.back() == '.' ||
        path.find("..") != std::string::npos || path.find('=') != std::string::npos)
      fail(pointer, "expected a config key path like training.batch_size, got \"" + path + "\"");
  }

  double number(const ordered& value, const std::string& pointer) const {
    if (!value.is_number()) fail(pointer, "expected a number, got " + describe_json(plain(value)));
    return value.get<double>();
  }

  int64_t integer(const ordered& value, const std::string& pointer, int64_t min) const {
    if (!value.is_number_integer() || value.get<int64_t>() < min)
      fail(pointer, "expected an integer >= " + std::to_string(min) + ", got " +
                        describe_json(plain(value)));
    return value.get<int64_t>();
  }

  std::vector<nlohmann::json> values(const ordered& value, const std::string& pointer) const {
    if (!value.is_array())
      fail(pointer, "expected a list of values, got " + describe_json(plain(value)));
    if (value.empty()) fail(pointer, "expected at least one value, got an empty list");
    std::vector<nlohmann::json> out;
    for (const ordered& v : value) out.push_back(plain(v));
    return out;
  }

  Distribution distribution(const ordered& value, const std::string& pointer) const {
    if (!value.is_object() || value.size() != 1)
      fail(
          pointer,
          "expected one distribution: {\"uniform\": [low, high]}, {\"loguniform\": [low, high]} or "
          "{\"choice\": [values]}, got " +
              describe_json(plain(value)));
    const std::string type = value.begin().key();
    const ordered& args = value.begin().value();
    const std::string at = pointer + "/" + escape_pointer(type);
    Distribution d;
    d.type = type;
    if (type == "choice") {
      d.values = values(args, at);
      return d;
    }
    if (type != "uniform" && type != "loguniform")
      fail(at, "unknown distribution \"" + type + "\"; expected uniform, loguniform or choice");
    if (!args.is_array() || args.size() != 2)
      fail(at, "expected [low, high], got " + describe_json(plain(args)));
    d.low = number(args[0], at + "/0");
    d.high = number(args[1], at + "/1");
    if (!(d.low < d.high))
      fail(at, "expected low < high, got [" + plain(args[0]).dump() + ", " + plain(args[1]).dump() +
                   "]");
    if (type == "loguniform" && d.low <= 0.0)
      fail(at + "/0", "expected a positive low bound for loguniform");
    return d;
  }

 private:
  std::string source_;
};

uint64_t fnv1a(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : text) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
  return h;
}

// Six significant digits: random values read well in the leaderboard and in directory names,
// and the value a trial ran with is exactly the one printed.
double round_significant(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", x);
  return std::stod(text);
}

nlohmann::json draw(const Distribution& d, Rng& rng) {
  if (d.type == "choice") return d.values[rng.below(d.values.size())];
  const double u = static_cast<double>(rng.next_u64() >> 11) * 0x1.0p-53;  // [0, 1)
  if (d.type == "uniform") return round_significant(d.low + (d.high - d.low) * u);
  return round_significant(std::exp(std::log(d.low) + (std::log(d.high) - std::log(d.low)) * u));
}

// A key may be in the grid and in the random search (their trials are apart), not also fixed.
void add_pointer(SweepSpec& spec, const std::string& path, const std::string& pointer,
                 const Reader& reader) {
  for (const auto& [p, where] : spec.pointers)
    if (p == path && (where.rfind("/fixed/", 0) == 0 || pointer.rfind("/fixed/", 0) == 0))
      reader.fail(pointer, "key path " + path + " is already set at " + where);
  spec.pointers.emplace_back(path, pointer);
}

}  // namespace

std::string override_argument(const Override& o) { return o.path + "=" + o.value.dump(); }

SweepSpec parse_sweep_spec(const ordered& document, const std::string& source) {
  Reader r(source);
  r.require_object(document, "");
  SweepSpec spec;
  spec.source = source;
  for (const auto& [key, value] : document.items()) {
    if (key != "description" && key != "fixed" && key != "grid" && key != "random")
      r.fail("/" + escape_pointer(key), "unknown key; expected description, fixed, grid or random");
  }
  if (!document.contains("grid") && !document.contains("random"))
    r.fail(
        "",
        "expected \"grid\" (values per key path) or \"random\" (distributions and a trial count)");
  if (document.contains("description")) {
    if (!document["description"].is_string()) r.fail("/description", "expected a string");
    spec.description = document["description"].get<std::string>();
  }
  if (document.contains("fixed")) {
    r.require_object(document["fixed"], "/fixed");
    for (const auto& [path, value] : document["fixed"].items()) {
      const std::string at = "/fixed/" + escape_pointer(path);
      r.check_key_path(path, at);
      add_pointer(spec, path, at, r);
      spec.fixed.push_back({path, plain(value)});
    }
  }
  if (document.contains("grid")) {
    r.require_object(document["grid"], "/grid");
    if (document["grid"].empty()) r.fail("/grid", "expected at least one key path with its values");
    for (const auto& [path, value] : document["grid"].items()) {
      const std::string at = "/grid/" + escape_pointer(path);
      r.check_key_path(path, at);
      add_pointer(spec, path, at, r);
      spec.grid.emplace_back(path, r.values(value, at));
    }
  }
  if (document.contains("random")) {
    const ordered& random = document["random"];
    r.require_object(random, "/random");
    for (const auto& [key, value] : random.items())
      if (key != "trials" && key != "seed" && key != "params")
        r.fail("/random/" + escape_pointer(key), "unknown key; expected trials, seed or params");
    if (!random.contains("trials"))
      r.fail("/random/trials", "missing; expected the number of trials");
    spec.random.trials = r.integer(random["trials"], "/random/trials", 1);
    spec.random.seed = random.contains("seed")
                           ? static_cast<uint64_t>(r.integer(random["seed"], "/random/seed", 0))
                           : 0;
    if (!random.contains("params"))
      r.fail("/random/params", "missing; expected {\"key.path\": distribution, ...}");
    r.require_object(random["params"], "/random/params");
    if (random["params"].empty())
      r.fail("/random/params", "expected at least one key path with its distribution");
    for (const auto& [path, value] : random["params"].items()) {
      const std::string at = "/random/params/" + escape_pointer(path);
      r.check_key_path(path, at);
      add_pointer(spec, path, at, r);
      spec.random.params.emplace_back(path, r.distribution(value, at));
    }
  }
  return spec;
}

SweepSpec load_sweep_spec(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path.string() + ": cannot open the sweep file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  ordered document;
  try {
    document = ordered::parse(buffer.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(path.string() + ": byte " + std::to_string(e.byte) + ": invalid JSON");
  }
  return parse_sweep_spec(document, path.string());
}

std::string trial_name(int index, const std::vector<Override>& overrides) {
  std::string joined;
  for (const Override& o : overrides) joined += override_argument(o) + "\n";
  char text[48];
  std::snprintf(text, sizeof text, "trial-%03d-%08x", index,
                static_cast<unsigned>(fnv1a(joined) & 0xffffffffu));
  return text;
}

std::vector<Trial> expand_trials(const SweepSpec& spec) {
  std::vector<Trial> trials;
  auto add = [&](std::vector<Override> varied) {
    Trial t;
    t.index = static_cast<int>(trials.size());
    t.overrides = spec.fixed;
    t.overrides.insert(t.overrides.end(), varied.begin(), varied.end());
    t.name = trial_name(t.index, t.overrides);
    trials.push_back(std::move(t));
  };
  if (!spec.grid.empty()) {
    size_t count = 1;
    for (const auto& [path, values] : spec.grid) count *= values.size();
    for (size_t n = 0; n < count; ++n) {
      // Mixed-radix digits of n, the last key varying fastest.
      std::vector<Override> varied(spec.grid.size());
      size_t rest = n;
      for (size_t k = spec.grid.size(); k-- > 0;) {
        const auto& [path, values] = spec.grid[k];
        varied[k] = {path, values[rest % values.size()]};
        rest /= values.size();
      }
      add(std::move(varied));
    }
  }
  for (int64_t i = 0; i < spec.random.trials; ++i) {
    Rng rng(Rng::derive(spec.random.seed, static_cast<uint64_t>(i)));
    std::vector<Override> varied;
    for (const auto& [path, distribution] : spec.random.params)
      varied.push_back({path, draw(distribution, rng)});
    add(std::move(varied));
  }
  return trials;
}

void check_trials_against_config(const SweepSpec& spec, const std::vector<Trial>& trials,
                                 const std::string& base_config) {
  {  // the base's own errors name the base, not the sweep
    const Config base = load_config(base_config);
    (void)Model::build(base.model, base.seed);
  }
  size_t grid_trials = spec.grid.empty() ? 0 : 1;
  for (const auto& [path, values] : spec.grid) grid_trials *= values.size();
  auto pointer_of = [&](const std::string& path, const Trial& t) {
    // A key in both the grid and the random search: the section this trial came from.
    const std::string section = static_cast<size_t>(t.index) < grid_trials ? "/grid/" : "/random/";
    std::string found = "/";
    for (const auto& [p, where] : spec.pointers)
      if (p == path && (found == "/" || where.rfind(section, 0) == 0)) found = where;
    return found;
  };
  for (const Trial& t : trials) {
    std::vector<std::string> arguments;
    for (const Override& o : t.overrides) arguments.push_back(override_argument(o));
    try {
      const Config config = load_config(base_config, arguments);
      (void)Model::build(config.model, config.seed);  // the layers check their own arguments
    } catch (const UserError& e) {
      // Blame the key path the config's message points at, else the first one.
      const std::string what = e.what();
      std::string blamed = t.overrides.empty() ? "" : t.overrides.front().path;
      size_t longest = 0;
      for (const Override& o : t.overrides) {
        std::string as_pointer = "/" + o.path;
        for (char& c : as_pointer)
          if (c == '.') c = '/';
        if (what.find(as_pointer) != std::string::npos && as_pointer.size() > longest) {
          blamed = o.path;
          longest = as_pointer.size();
        }
      }
      std::string at = pointer_of(blamed, t);
      // A value the config rejects: point at the value in the grid (a key path that does not
      // exist is the key's fault, whatever its values).
      const bool key_error =
          what.find("unknown key") != std::string::npos || what.find("--set") != std::string::npos;
      for (const auto& [path, values] : spec.grid) {
        if (path != blamed || key_error || static_cast<size_t>(t.index) >= grid_trials) continue;
        for (const Override& o : t.overrides)
          if (o.path == path)
            for (size_t v = 0; v < values.size(); ++v)
              if (values[v] == o.value) {
                at += "/" + std::to_string(v);
                break;
              }
      }
      throw ConfigError(spec.source + ": " + at + ": " + t.name + " does not load: " + what);
    }
  }
}

}  // namespace mnistnet
