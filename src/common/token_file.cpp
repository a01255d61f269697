#include "common/token_file.h"

#include "platform/system.h"

namespace hvterm {

bool parse_token(std::string_view text, const std::string& path, std::string& token, std::string& error) {
  std::string_view line = text.substr(0, text.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // written on Windows, or by an editor that does
  if (line.empty()) {
    error = "token file " + path + " is empty (the token is its first line)";
    return false;
  }
  if (line.size() > kMaxTokenBytes) {
    error = "the token in " + path + " is longer than " + std::to_string(kMaxTokenBytes) + " bytes";
    return false;
  }
  token.assign(line);
  return true;
}

bool read_token_file(const std::string& path, std::string& token, std::string& error) {
  std::string text;
  return platform::read_private_file(path, "token file", 64 * 1024, text, error) &&
         parse_token(text, path, token, error);
}

}  // namespace hvterm
