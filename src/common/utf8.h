#pragma once
// Strict UTF-8 (RFC 3629), for the places that must tell text from other bytes: printable() and
// the asciicast recorder.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace hvterm {

// The length of the UTF-8 sequence at `text[i]` and its code point; 0 when it is not valid
// UTF-8 (overlong forms, surrogates and values past U+10FFFF included) or is cut short by the
// end of `text`.
size_t decode_utf8(std::string_view text, size_t i, uint32_t& code_point);

// Whether `text[i..]` is the start of a valid sequence that the end of `text` cut short, so that
// the bytes still to come may complete it (a multi-byte character split across two reads).
bool utf8_cut_short(std::string_view text, size_t i);

}  // namespace hvterm
