#include "config/json_fields.h"

#include <cctype>
#include <cmath>

#include "core/did_you_mean.h"
#include "core/errors.h"

namespace mnistnet {

std::string describe_json(const nlohmann::json& value) {
  // Replace, not throw on, invalid UTF-8 (a --set value can hold any bytes): this is a message.
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  switch (value.type()) {
    case nlohmann::json::value_t::string:
      return "the string " + text;
    case nlohmann::json::value_t::array:
      return "the list " + text;
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::boolean:
      return text;
    case nlohmann::json::value_t::null:
      return "null";
    default:
      return text;
  }
}

size_t json_too_deep_at(std::string_view text) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;  // skip the escaped character
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::string::npos;
}

JsonFields::JsonFields(const nlohmann::json& object, std::string source, std::string pointer)
    : object_(object), source_(std::move(source)), pointer_(std::move(pointer)) {
  if (!object_.is_object()) {
    throw ConfigError(source_ + ": " + (pointer_.empty() ? "/" : pointer_) +
                      ": expected an object, got " + describe_json(object_));
  }
}

std::string JsonFields::pointer_to(const std::string& key) const {
  // RFC 6901 escaping: "~" -> "~0", "/" -> "~1".
  std::string escaped;
  for (char c : key) {
    if (c == '~')
      escaped += "~0";
    else if (c == '/')
      escaped += "~1";
    else
      escaped += c;
  }
  return pointer_ + "/" + escaped;
}

void JsonFields::fail(const std::string& key, const std::string& what) const {
  throw ConfigError(source_ + ": " + (key.empty() ? pointer_ : pointer_to(key)) + ": " + what);
}

bool JsonFields::has(const std::string& key) const { return object_.contains(key); }

const nlohmann::json* JsonFields::get(const std::string& key) {
  read_.insert(key);
  auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

void JsonFields::skip(const std::string& key) { read_.insert(key); }

const nlohmann::json* JsonFields::find(const std::string& key) const {
  auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

int64_t JsonFields::integer(const std::string& key, std::optional<int64_t> fallback, int64_t min,
                            int64_t max) {
  const nlohmann::json* v = get(key);
  auto expected = [&](bool above_max = false) {
    std::string what = min == 1   ? "a positive integer"
                       : min == 0 ? "a non-negative integer"
                       : min == std::numeric_limits<int64_t>::min()
                           ? "an integer"
                           : "an integer >= " + std::to_string(min);
    return above_max ? what + " <= " + std::to_string(max) : what;
  };
  if (!v) {
    if (fallback) return *fallback;
    fail(key, "missing; expected " + expected());
  }
  bool integral = v->is_number_integer() ||
                  (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>() &&
                   std::abs(v->get<double>()) < 9e15);
  if (!integral) fail(key, "expected " + expected() + ", got " + describe_json(*v));
  int64_t x =
      v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX)
          ? INT64_MAX
          : (v->is_number_float() ? static_cast<int64_t>(v->get<double>()) : v->get<int64_t>());
  if (x < min || x > max) fail(key, "expected " + expected(x > max) + ", got " + describe_json(*v));
  return x;
}

double JsonFields::number(const std::string& key, std::optional<double> fallback, double min,
                          double max) {
  const nlohmann::json* v = get(key);
  auto range = [&] {
    std::string lo = std::isinf(min) ? "" : nlohmann::json(min).dump();
    std::string hi = std::isinf(max) ? "" : nlohmann::json(max).dump();
    if (lo.empty() && hi.empty()) return std::string("a number");
    if (hi.empty()) return "a number >= " + lo;
    if (lo.empty()) return "a number <= " + hi;
    return "a number in [" + lo + ", " + hi + "]";
  };
  if (!v) {
    if (fallback) return *fallback;
    fail(key, "missing; expected " + range());
  }
  if (!v->is_number()) fail(key, "expected " + range() + ", got " + describe_json(*v));
  double x = v->get<double>();
  if (!(x >= min && x <= max)) fail(key, "expected " + range() + ", got " + describe_json(*v));
  return x;
}

bool JsonFields::boolean(const std::string& key, std::optional<bool> fallback) {
  const nlohmann::json* v = get(key);
  if (!v) {
    if (fallback) return *fallback;
    fail(key, "missing; expected true or false");
  }
  if (!v->is_boolean()) fail(key, "expected true or false, got " + describe_json(*v));
  return v->get<bool>();
}

std::string JsonFields::string(const std::string& key, std::optional<std::string> fallback) {
  const nlohmann::json* v = get(key);
  if (!v) {
    if (fallback) return *fallback;
    fail(key, "missing; expected a string");
  }
  if (!v->is_string()) fail(key, "expected a string, got " + describe_json(*v));
  return v->get<std::string>();
}

std::string JsonFields::choice(const std::string& key, std::optional<std::string> fallback,
                               std::initializer_list<const char*> allowed) {
  std::string list;
  for (const char* a : allowed) list += (list.empty() ? "\"" : ", \"") + std::string(a) + "\"";
  const nlohmann::json* v = get(key);
  if (!v) {
    if (fallback) return *fallback;
    fail(key, "missing; expected one of " + list);
  }
  auto folded = [](std::string text) {
    for (char& c : text)
      c = c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  };
  std::vector<std::string> names(allowed.begin(), allowed.end());
  if (v->is_string()) {
    const std::string given = folded(v->get<std::string>());
    for (const char* a : allowed)
      if (given == folded(a)) return a;
    fail(key, "expected one of " + list + ", got " + describe_json(*v) +
                  did_you_mean(v->get<std::string>(), names));
  }
  fail(key, "expected one of " + list + ", got " + describe_json(*v));
}

std::vector<int64_t> JsonFields::int_or_list(const std::string& key,
                                             std::optional<int64_t> fallback, size_t size,
                                             int64_t min) {
  const nlohmann::json* v = get(key);
  std::string expected = "an integer >= " + std::to_string(min) + " or a list of " +
                         std::to_string(size) + " such integers";
  if (!v) {
    if (fallback) return std::vector<int64_t>(size, *fallback);
    fail(key, "missing; expected " + expected);
  }
  auto ok = [&](const nlohmann::json& x) {
    return x.is_number_integer() && x.get<int64_t>() >= min;
  };
  if (ok(*v)) return std::vector<int64_t>(size, v->get<int64_t>());
  if (v->is_array() && v->size() == size) {
    std::vector<int64_t> out;
    for (const auto& x : *v) {
      if (!ok(x)) fail(key, "expected " + expected + ", got " + describe_json(*v));
      out.push_back(x.get<int64_t>());
    }
    return out;
  }
  fail(key, "expected " + expected + ", got " + describe_json(*v));
}

std::vector<int64_t> JsonFields::positive_int_list(const std::string& key) {
  const nlohmann::json* v = get(key);
  if (!v) fail(key, "missing; expected a list of positive integers");
  bool good = v->is_array() && !v->empty();
  if (good)
    for (const auto& x : *v) good = good && x.is_number_integer() && x.get<int64_t>() > 0;
  if (!good) fail(key, "expected a list of positive integers, got " + describe_json(*v));
  return v->get<std::vector<int64_t>>();
}

JsonFields JsonFields::object(const std::string& key) {
  static const nlohmann::json empty = nlohmann::json::object();
  const nlohmann::json* v = get(key);
  return JsonFields(v ? *v : empty, source_, pointer_to(key));
}

const nlohmann::json& JsonFields::array(const std::string& key) {
  const nlohmann::json* v = get(key);
  if (!v) fail(key, "missing; expected a list");
  if (!v->is_array()) fail(key, "expected a list, got " + describe_json(*v));
  return *v;
}

void JsonFields::finish(const std::function<std::string(const std::string&)>& elsewhere) const {
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (read_.count(it.key())) continue;
    std::string known;
    for (const auto& k : read_) known += (known.empty() ? "" : ", ") + k;
    std::string hint = did_you_mean(it.key(), {read_.begin(), read_.end()});
    if (hint.empty() && elsewhere) hint = elsewhere(it.key());
    fail(it.key(), "unknown key" + hint + " (known keys here: " + known + ")");
  }
}

}  // namespace mnistnet
