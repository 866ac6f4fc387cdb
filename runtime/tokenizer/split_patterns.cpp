// The pre-tokenizer regexes as code. Each matcher tries the regex's alternatives in order at
// one position and returns where the first one that matches ends, as a backtracking engine
// would; every character matches some alternative, so the matches tile the text.
#include "runtime/tokenizer/split_patterns.h"

#include <string>

#include "runtime/tokenizer/unicode_tables.h"
#include "runtime/tokenizer/utf8.h"

namespace circuit::tok {
namespace {

constexpr std::string_view kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr std::string_view kGpt2LlamaCpp =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
constexpr std::string_view kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// The text decoded once: classes per character, with a sentinel past the end.
struct Chars {
  std::vector<char32_t> cp;
  std::vector<CharClass> cls;
  std::vector<std::size_t> offset;  // byte offset of each character; offset[n] = text size
  std::size_t n = 0;

  explicit Chars(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
      const Utf8Char c = next_utf8(text, i);
      cp.push_back(c.valid ? c.cp : 0xFFFD);
      cls.push_back(c.valid ? char_class(c.cp) : CharClass::Other);
      offset.push_back(i);
      i += c.len;
    }
    n = cp.size();
    offset.push_back(text.size());
  }
  bool letter(std::size_t i) const { return i < n && cls[i] == CharClass::Letter; }
  bool number(std::size_t i) const { return i < n && cls[i] == CharClass::Number; }
  bool space(std::size_t i) const { return i < n && cls[i] == CharClass::Space; }
  bool other(std::size_t i) const { return i < n && cls[i] == CharClass::Other; }
  bool is(std::size_t i, char32_t c) const { return i < n && cp[i] == c; }
  bool newline(std::size_t i) const { return is(i, U'\r') || is(i, U'\n'); }
};

// Under (?i), Unicode simple case folding lets 's' also match 'S' and U+017F (long s).
bool same_letter(char32_t c, char ascii, bool ignore_case) {
  if (c == static_cast<char32_t>(ascii)) return true;
  if (!ignore_case) return false;
  if (c == static_cast<char32_t>(ascii - 'a' + 'A')) return true;
  return ascii == 's' && c == 0x17F;
}

// 's|'t|'re|'ve|'m|'ll|'d: the end of the match at i, or i.
std::size_t contraction(const Chars& s, std::size_t i, bool ignore_case) {
  if (!s.is(i, U'\'') || i + 1 >= s.n) return i;
  const char32_t a = s.cp[i + 1];
  for (char one : {'s', 't'}) {
    if (same_letter(a, one, ignore_case)) return i + 2;
  }
  if (i + 2 < s.n) {
    const char32_t b = s.cp[i + 2];
    for (const char* two : {"re", "ve"}) {
      if (same_letter(a, two[0], ignore_case) && same_letter(b, two[1], ignore_case)) return i + 3;
    }
  }
  if (same_letter(a, 'm', ignore_case)) return i + 2;
  if (i + 2 < s.n && same_letter(a, 'l', ignore_case) && same_letter(s.cp[i + 2], 'l', ignore_case)) return i + 3;
  if (same_letter(a, 'd', ignore_case)) return i + 2;
  return i;
}

std::size_t run_end(const Chars& s, std::size_t i, bool (Chars::*pred)(std::size_t) const) {
  while ((s.*pred)(i)) ++i;
  return i;
}

// \s+(?!\S) then \s+ : a whitespace run leaves its last character to the next word.
std::size_t whitespace(const Chars& s, std::size_t i) {
  const std::size_t k = run_end(s, i, &Chars::space);
  if (k == s.n || k - 1 == i) return k;  // at the end, or a single space before a word: \s+
  return k - 1;
}

std::size_t match_gpt2(const Chars& s, std::size_t i) {
  if (std::size_t j = contraction(s, i, false); j != i) return j;
  const std::size_t j = s.is(i, U' ') ? i + 1 : i;
  if (s.letter(j)) return run_end(s, j, &Chars::letter);
  if (s.number(j)) return run_end(s, j, &Chars::number);
  if (s.other(j)) return run_end(s, j, &Chars::other);
  return whitespace(s, i);
}

std::size_t match_llama3(const Chars& s, std::size_t i, std::size_t max_digits) {
  if (std::size_t j = contraction(s, i, true); j != i) return j;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (!s.newline(i) && !s.letter(i) && !s.number(i) && s.letter(i + 1)) return run_end(s, i + 1, &Chars::letter);
  if (s.letter(i)) return run_end(s, i, &Chars::letter);
  // \p{N}{1,max}
  if (s.number(i)) {
    std::size_t j = i;
    while (j - i < max_digits && s.number(j)) ++j;
    return j;
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  const std::size_t j = s.is(i, U' ') && s.other(i + 1) ? i + 1 : i;
  if (s.other(j)) return run_end(s, run_end(s, j, &Chars::other), &Chars::newline);
  // \s*[\r\n]+ : through the last line break of the whitespace run.
  const std::size_t k = run_end(s, i, &Chars::space);
  for (std::size_t m = k; m > i; --m) {
    if (s.newline(m - 1)) return m;
  }
  return whitespace(s, i);
}

}  // namespace

std::string_view split_pattern_regex(SplitPattern p) {
  switch (p) {
    case SplitPattern::Gpt2: return kGpt2;
    case SplitPattern::Llama3: return kLlama3;
    case SplitPattern::Qwen2: return kQwen2;
  }
  return kGpt2;
}

std::optional<SplitPattern> split_pattern_from_regex(std::string_view regex) {
  if (regex == kGpt2 || regex == kGpt2LlamaCpp) return SplitPattern::Gpt2;
  if (regex == kLlama3) return SplitPattern::Llama3;
  if (regex == kQwen2) return SplitPattern::Qwen2;
  return std::nullopt;
}

std::vector<std::pair<std::size_t, std::size_t>> find_matches(SplitPattern p, std::string_view text) {
  const Chars s(text);
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t i = 0; i < s.n;) {
    std::size_t j = p == SplitPattern::Gpt2 ? match_gpt2(s, i) : match_llama3(s, i, p == SplitPattern::Llama3 ? 3 : 1);
    if (j <= i) j = i + 1;  // cannot happen (every character matches); never loop forever
    out.emplace_back(s.offset[i], s.offset[j]);
    i = j;
  }
  return out;
}

std::vector<std::pair<std::size_t, std::size_t>> find_digits(std::string_view text, bool individual) {
  const Chars s(text);
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t i = 0; i < s.n;) {
    if (!s.number(i)) {
      ++i;
      continue;
    }
    const std::size_t j = individual ? i + 1 : run_end(s, i, &Chars::number);
    out.emplace_back(s.offset[i], s.offset[j]);
    i = j;
  }
  return out;
}

}  // namespace circuit::tok
