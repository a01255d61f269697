#pragma once
// Just enough JSON to read what the Host Compute Service returns. Bounded nesting, no exceptions.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hvterm::platform::detail {

struct JsonValue {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  std::string text;                                        // String (UTF-8)
  std::vector<JsonValue> items;                            // Array
  std::vector<std::pair<std::string, JsonValue>> members;  // Object, in document order

  const JsonValue* find(std::string_view key) const;     // Object member, or nullptr
  std::string string_or(std::string_view key, std::string fallback) const;
};

// The whole of `text` must be one value (whitespace around it allowed).
bool parse_json(std::string_view text, JsonValue& out, std::string& error);

}  // namespace hvterm::platform::detail
