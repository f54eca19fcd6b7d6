// ICU case folding and UAX #29 word boundaries for the list filters. The index and the queries
// both go through these functions, so a description and a query are always cut and folded the
// same way.
#include "tenant/projections/search_text.hpp"

#include <unicode/brkiter.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>

#include "search_text_detail.hpp"
#include "tenant/domain/ascii.hpp"

namespace tenant::projections {

namespace {

// Creating a word break iterator loads rule data: do it once, clone per thread.
icu::BreakIterator* thread_word_breaker() {
  static const std::unique_ptr<icu::BreakIterator> prototype = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::BreakIterator> bi(
        icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
    if (U_FAILURE(status)) bi.reset();
    return bi;
  }();
  thread_local std::unique_ptr<icu::BreakIterator> local(prototype ? prototype->clone() : nullptr);
  return local.get();
}

std::string to_utf8(const icu::UnicodeString& s) {
  std::string out;
  s.toUTF8String(out);
  return out;
}

}  // namespace

namespace {

// UAX #29 word boundaries restricted to "simple" text: ASCII plus the Latin-1 letters
// U+00C0-U+00FF (without x and /), the classes they have there: ALetter [A-Za-z] and those
// letters, Numeric [0-9], ExtendNumLet '_', MidNum ',' ';', MidNumLet '.', Single_Quote '\''
// (ICU's root rules take ':' out of MidLetter, leaving none in this range). Rules WB5-WB13b
// decide what joins; everything else separates. Most names and descriptions are simple text,
// and this is ~50x faster than a break iterator; tests check it against ICU on random input.
enum char_class : std::uint8_t { other, letter, digit, extend, mid_num, mid_num_let };

// The class of each ASCII byte (all of ASCII is simple text).
constexpr std::array<char_class, 128> ascii_classes = [] {
  std::array<char_class, 128> t{};
  t.fill(other);
  for (int c = 'a'; c <= 'z'; ++c)
    t[c] = letter;
  for (int c = 'A'; c <= 'Z'; ++c)
    t[c] = letter;
  for (int c = '0'; c <= '9'; ++c)
    t[c] = digit;
  t['_'] = extend;
  t[','] = mid_num;
  t[';'] = mid_num;
  t['.'] = mid_num_let;
  t['\''] = mid_num_let;
  return t;
}();

// Class and length in bytes of the character at `i`; length 0: not simple text.
inline std::pair<char_class, std::size_t> classify(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) [[likely]]
    return {ascii_classes[c], 1};
  if (c == 0xc3 && i + 1 < s.size()) {
    const auto d = static_cast<unsigned char>(s[i + 1]);
    if (d >= 0x80 && d <= 0xbf && d != 0x97 && d != 0xb7) return {letter, 2};
  }
  return {other, 0};
}

using domain::is_ascii;

enum class text_kind { other, ascii, simple };

// ascii: every byte below 0x80; simple: simple text with Latin-1 letters; other: neither.
text_kind kind_of(std::string_view s) {
  if (is_ascii(s)) return text_kind::ascii;
  for (std::size_t i = 0; i < s.size();) {
    const auto len = classify(s, i).second;
    if (len == 0) return text_kind::other;
    i += len;
  }
  return text_kind::simple;
}

// fold_simple of ASCII text: A-Z lowercase, every other byte as it is. Without branches, so
// that the compiler vectorizes it.
void fold_ascii(std::string_view in, std::string& out) {
  const std::size_t at = out.size();
  out.resize(at + in.size());
  auto* o = reinterpret_cast<unsigned char*>(out.data() + at);
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const unsigned char c = p[i];
    o[i] = static_cast<unsigned char>(
        c + (static_cast<unsigned>(static_cast<unsigned char>(c - 'A') < 26) << 5));
  }
}

// Full case folding of simple text: ASCII and U+00C0-U+00DE lowercase, U+00DF (sharp s) "ss".
// Every character keeps its length in bytes, so the output is exactly as long as the input.
void fold_simple(std::string_view in, std::string& out, text_kind kind) {
  if (kind == text_kind::ascii) return fold_ascii(in, out);
  const std::size_t at = out.size();
  out.resize(at + in.size());
  char* o = out.data() + at;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c == 0xc3) {
      const auto d = static_cast<unsigned char>(in[++i]);
      if (d == 0x9f) {
        // "ss" for the two bytes of U+00DF: the output keeps the input's length here.
        *o++ = 's';
        *o++ = 's';
      } else {
        *o++ = static_cast<char>(0xc3);
        *o++ = static_cast<char>(d >= 0x80 && d <= 0x9e ? d + 0x20 : d);
      }
    } else {
      *o++ = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
  }
}

bool is_word_char(char_class k) {
  return k == letter || k == digit || k == extend;
}

// Folding simple text keeps every character's length and class (fold_simple), so the text is
// folded once into `folded` and the words are cut from it at the original's boundaries, then
// sorted as views into `views`: no string per word.
void fold_words_simple(std::string_view text, text_kind kind, std::string& folded,
                       std::vector<std::string_view>& views) {
  folded.clear();
  views.clear();
  fold_simple(text, folded, kind);
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const auto [k, len] = classify(text, i);
    if (!is_word_char(k)) {
      i += len;
      continue;
    }
    const std::size_t start = i;
    bool has_alnum = k != extend;
    char_class prev = k;
    i += len;
    while (i < n) {
      const auto [c, clen] = classify(text, i);
      if (is_word_char(c)) {  // WB5, WB8, WB9, WB10, WB13a, WB13b
        has_alnum = has_alnum || c != extend;
        prev = c;
        i += clen;
        continue;
      }
      if (i + clen < n && (c == mid_num || c == mid_num_let)) {
        const auto [next, nlen] = classify(text, i + clen);
        const bool letters = prev == letter && next == letter && c != mid_num;  // WB6, WB7
        const bool digits = prev == digit && next == digit;                     // WB11, WB12
        if (letters || digits) {
          prev = next;
          i += clen + nlen;
          continue;
        }
      }
      break;
    }
    // ICU gives a lone '_' the status "none" but a run of them a word status.
    if (!has_alnum && i - start < 2) continue;
    views.push_back(std::string_view(folded).substr(start, i - start));
  }
  std::sort(views.begin(), views.end());
  views.erase(std::unique(views.begin(), views.end()), views.end());
}

}  // namespace

std::string fold_name(std::string_view name) {
  std::string out;
  if (detail::fold_name_into(name, out)) return out;
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(name.data(), static_cast<std::int32_t>(name.size())));
  std::int32_t b = 0, e = u.length();
  while (b < e) {
    const UChar32 c = u.char32At(b);
    if (!u_isUWhiteSpace(c)) break;
    b += U16_LENGTH(c);
  }
  while (e > b) {
    const std::int32_t start = u.getChar32Start(e - 1);
    if (!u_isUWhiteSpace(u.char32At(start))) break;
    e = start;
  }
  icu::UnicodeString trimmed(u, b, e - b);
  trimmed.foldCase(U_FOLD_CASE_DEFAULT);
  return to_utf8(trimmed);
}

std::vector<std::string> detail::fold_words_icu(std::string_view text) {
  std::vector<std::string> words;
  if (text.empty()) return words;
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<std::int32_t>(text.size())));
  icu::BreakIterator* bi = thread_word_breaker();
  if (bi == nullptr) return words;  // no ICU data: nothing indexable (never in practice)
  bi->setText(u);
  std::int32_t start = bi->first();
  for (std::int32_t end = bi->next(); end != icu::BreakIterator::DONE;
       start = end, end = bi->next()) {
    // Rule status >= UBRK_WORD_NONE_LIMIT: a segment with letters, digits, kana or ideographs.
    if (bi->getRuleStatus() < UBRK_WORD_NONE_LIMIT) continue;
    icu::UnicodeString w(u, start, end - start);
    w.foldCase(U_FOLD_CASE_DEFAULT);
    words.push_back(to_utf8(w));
  }
  bi->setText(icu::UnicodeString());  // do not keep a pointer into `u`
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  return words;
}

std::vector<std::string> fold_words(std::string_view text) {
  std::string folded;
  std::vector<std::string_view> views;
  if (!detail::fold_words_into(text, folded, views)) return detail::fold_words_icu(text);
  return std::vector<std::string>(views.begin(), views.end());
}

bool detail::fold_words_into(std::string_view text, std::string& folded,
                             std::vector<std::string_view>& words) {
  const auto kind = kind_of(text);
  if (kind == text_kind::other) return false;
  fold_words_simple(text, kind, folded, words);
  return true;
}

bool detail::fold_name_into(std::string_view name, std::string& out) {
  const auto kind = kind_of(name);
  if (kind == text_kind::other) return false;
  // Simple text: its White_Space is \t\n\v\f\r and space (U+0085 and U+00A0 are not simple).
  auto ws = [](unsigned char c) { return c == ' ' || (c >= 0x09 && c <= 0x0d); };
  std::size_t b = 0, e = name.size();
  while (b < e && ws(static_cast<unsigned char>(name[b])))
    ++b;
  while (e > b && ws(static_cast<unsigned char>(name[e - 1])))
    --e;
  fold_simple(name.substr(b, e - b), out, kind);
  return true;
}

bool description_matches(std::string_view text, std::string_view query) {
  const auto q = fold_words(query);
  if (q.empty()) return true;
  const auto words = fold_words(text);
  for (const auto& p : q) {
    // Words starting with p form a contiguous range of the sorted list from lower_bound(p).
    auto it = std::lower_bound(words.begin(), words.end(), p);
    if (it == words.end() || it->compare(0, p.size(), p) != 0) return false;
  }
  return true;
}

}  // namespace tenant::projections
