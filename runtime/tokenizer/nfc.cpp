// NFC following Unicode Standard Annex #15: decompose fully, sort each run of non-starters by
// combining class (stably), then compose each character with the last starter it is not
// blocked from.
#include "runtime/tokenizer/nfc.h"

#include <algorithm>
#include <vector>

#include "runtime/tokenizer/unicode_tables.h"
#include "runtime/tokenizer/utf8.h"

namespace circuit::tok {
namespace {

struct Item {
  char32_t cp;
  std::uint8_t ccc;
  bool raw;             // an invalid byte run, copied through untouched
  std::string_view bytes;  // the raw bytes when `raw`
};

void decompose(char32_t cp, std::vector<Item>& out) {
  char32_t a, b;
  if (canonical_decomposition(cp, a, b)) {
    decompose(a, out);
    if (b) decompose(b, out);
    return;
  }
  out.push_back({cp, combining_class(cp), false, {}});
}

// True when every character is below U+0300: such text is already NFC.
bool trivially_nfc(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b >= 0xCC) return false;  // lead bytes of U+0300 and above
  }
  return true;
}

}  // namespace

std::string nfc(std::string_view text) {
  if (trivially_nfc(text)) return std::string(text);
  std::vector<Item> items;
  items.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const Utf8Char c = next_utf8(text, i);
    if (c.valid) {
      decompose(c.cp, items);
    } else {
      items.push_back({0xFFFD, 0, true, text.substr(i, c.len)});
    }
    i += c.len;
  }
  // Canonical ordering: stable sort of each maximal run of non-starters.
  for (std::size_t i = 0; i < items.size();) {
    if (items[i].ccc == 0) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < items.size() && items[j].ccc != 0) ++j;
    std::stable_sort(items.begin() + i, items.begin() + j, [](const Item& x, const Item& y) { return x.ccc < y.ccc; });
    i = j;
  }
  // Canonical composition.
  std::vector<Item> out;
  out.reserve(items.size());
  long starter = -1;  // index in `out` of the last starter
  for (const Item& it : items) {
    if (starter >= 0 && !it.raw && !out[starter].raw) {
      const Item& last = out.back();
      const bool blocked = static_cast<std::size_t>(starter) != out.size() - 1 &&
                           (last.ccc == 0 || last.ccc >= it.ccc);
      if (!blocked) {
        if (char32_t c = primary_composite(out[starter].cp, it.cp)) {
          out[starter].cp = c;
          out[starter].ccc = combining_class(c);
          continue;
        }
      }
    }
    if (it.ccc == 0) starter = static_cast<long>(out.size());
    out.push_back(it);
  }
  std::string result;
  result.reserve(text.size());
  for (const Item& it : out) {
    if (it.raw) {
      result.append(it.bytes);
    } else {
      append_utf8(result, it.cp);
    }
  }
  return result;
}

}  // namespace circuit::tok
