#pragma once
// Reads one JSON object field by field, with the checks every config section needs:
// types, ranges, allowed values, and unknown keys. Every error is a ConfigError of the form
//   "configs/x.json: /model/layers/2/units: expected a positive integer, got -3".
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mnistnet {

class JsonFields {
 public:
  // `source` names where the JSON came from (a file path, or "--set"); `pointer` is the
  // object's JSON pointer ("" for the root). Throws if `object` is not an object.
  JsonFields(const nlohmann::json& object, std::string source, std::string pointer);

  bool has(const std::string& key) const;

  int64_t integer(const std::string& key, std::optional<int64_t> fallback,
                  int64_t min = std::numeric_limits<int64_t>::min(),
                  int64_t max = std::numeric_limits<int64_t>::max());
  double number(const std::string& key, std::optional<double> fallback,
                double min = -std::numeric_limits<double>::infinity(),
                double max = std::numeric_limits<double>::infinity());
  bool boolean(const std::string& key, std::optional<bool> fallback);
  std::string string(const std::string& key, std::optional<std::string> fallback);
  // One of `allowed`, returned as spelled there. Case and '-' / '_' do not matter: Keras's
  // class names ("Adam", "SGD") and module names ("fashion_mnist") name the same choices.
  std::string choice(const std::string& key, std::optional<std::string> fallback,
                     std::initializer_list<const char*> allowed);
  // An integer or a list of `size` integers (Keras's kernel_size=3 or [3, 3]).
  std::vector<int64_t> int_or_list(const std::string& key, std::optional<int64_t> fallback,
                                   size_t size, int64_t min);
  // A list of positive integers of any length (shapes).
  std::vector<int64_t> positive_int_list(const std::string& key);
  // A nested object; the caller reads it with its own JsonFields.
  JsonFields object(const std::string& key);
  // The raw value of an array (for lists of objects), after checking it is an array.
  const nlohmann::json& array(const std::string& key);
  // The raw value of a key (marked read), nullptr when absent: for arguments that take several
  // forms (Keras's padding=1, [1, 2] or [[1, 2], [3, 4]]; max_value=null).
  const nlohmann::json* value(const std::string& key) { return get(key); }

  // Marks a key as known without reading it (read elsewhere, or only in some cases).
  void skip(const std::string& key);
  // Throws for the first key that nothing read or skipped: an unknown key is a typo, never
  // ignored. The message lists the known keys and the nearest one ("did you mean"); when none
  // is near, `elsewhere(key)` may say where such a key does belong ("" when it knows nothing).
  void finish(const std::function<std::string(const std::string&)>& elsewhere = {}) const;

  // The raw value of a key without reading it (nullptr when absent).
  const nlohmann::json* find(const std::string& key) const;

  std::string pointer_to(const std::string& key) const;
  const std::string& source() const { return source_; }
  const std::string& pointer() const { return pointer_; }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;

 private:
  const nlohmann::json* get(const std::string& key);

  const nlohmann::json& object_;
  std::string source_;
  std::string pointer_;
  std::set<std::string> read_;
};

// A section's keys and how each is read: the one table of them. read_fields marks every key
// known before reading any, so an unknown key's message lists all of them, also those read only
// in some cases (training's "checkpoint", SGD's "momentum").
template <class Spec>
struct FieldReader {
  const char* key;
  void (*read)(JsonFields& f, const char* key, Spec& spec);
};

template <class Spec, size_t N>
void read_fields(JsonFields& f, Spec& spec, const FieldReader<Spec> (&table)[N],
                 const std::function<std::string(const std::string&)>& elsewhere = {}) {
  for (const FieldReader<Spec>& row : table) f.skip(row.key);
  for (const FieldReader<Spec>& row : table) row.read(f, row.key, spec);
  f.finish(elsewhere);
}

// JSON text nested deeper than this is refused before parsing: printing or walking such a value
// recurses once per level, and 100000 levels overflow the stack. Configs nest about 5 deep.
constexpr size_t kMaxJsonDepth = 64;

// The byte offset of the first bracket that opens level kMaxJsonDepth + 1 (outside strings), or
// std::string::npos when the text nests no deeper than kMaxJsonDepth.
size_t json_too_deep_at(std::string_view text);

// "the number 3", "the string \"abc\"", "null" ... for "expected X, got Y" messages.
std::string describe_json(const nlohmann::json& value);

}  // namespace mnistnet
