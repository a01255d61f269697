#pragma once
// --token-file, for hvterm and hvtermd alike: the shared secret is the file's first line (LF or CRLF
// line ending), and the file must be private, as ssh insists for a private key.
#include <cstddef>
#include <string>
#include <string_view>

namespace hvterm {

// Longer tokens would not fit the HELLO frame's string and add nothing against guessing.
inline constexpr size_t kMaxTokenBytes = 4096;

// The token in a file's text: its first line without the line ending; false with `error` (naming
// `path`) when that is empty or too long.
bool parse_token(std::string_view text, const std::string& path, std::string& token, std::string& error);
// Reads and checks the file (platform::read_private_file), then parse_token().
bool read_token_file(const std::string& path, std::string& token, std::string& error);

}  // namespace hvterm
