// ICU case folding and UAX #29 word boundaries for the list filters. The index and the queries
// both go through these functions, so a description and a query are always cut and folded the
// same way.
#include "tenant/projections/search_text.hpp"

#include <unicode/brkiter.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <memory>

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

bool is_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

}  // namespace

std::string fold_name(std::string_view name) {
  if (is_ascii(name)) {
    // ASCII: White_Space is \t\n\v\f\r and space (and U+0085, not ASCII); folding is tolower.
    auto ws = [](unsigned char c) { return c == ' ' || (c >= 0x09 && c <= 0x0d); };
    std::size_t b = 0, e = name.size();
    while (b < e && ws(static_cast<unsigned char>(name[b])))
      ++b;
    while (e > b && ws(static_cast<unsigned char>(name[e - 1])))
      --e;
    std::string out(name.substr(b, e - b));
    for (auto& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
  }
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

std::vector<std::string> fold_words(std::string_view text) {
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
