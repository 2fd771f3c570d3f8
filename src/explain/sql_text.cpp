#include "sql_text.hpp"

#include "accesses.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

namespace seer::explain {

namespace {

bool word_char(char ch) {
  return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '_';
}

bool is_word(const std::string& token) {
  return !token.empty() && word_char(token[0]);
}

// Words, and the punctuation a FROM list and a WITH are read by (",", "(", ")"); string literals
// and quoted identifiers' quotes dropped (a literal's words are data, not SQL).
std::vector<std::string> tokens(const std::string& sql) {
  std::vector<std::string> out;
  std::string word;
  char quote = 0;
  for (const char ch : sql) {
    if (quote) {
      if (ch == quote) quote = 0;
      if (quote == '"' && word_char(ch)) word += ch;  // a quoted identifier is still a name
      continue;
    }
    if (word_char(ch)) {
      word += ch;
      continue;
    }
    if (!word.empty()) out.push_back(std::move(word));
    word.clear();
    if (ch == '\'') quote = '\'';
    if (ch == '"') quote = '"';
    if (ch == ',' || ch == '(' || ch == ')') out.emplace_back(1, ch);
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

// The word at `i` is UPDATE as a lock (FOR UPDATE) or as an upsert's action (DO UPDATE SET), not
// a statement that names its table next.
bool update_not_of_a_table(const std::vector<std::string>& t, std::size_t i) {
  if (i > 0 && upper_ascii(t[i - 1]) == "FOR") return true;
  return i + 1 < t.size() && upper_ascii(t[i + 1]) == "SET";
}

// Words that end a table's reference in a FROM list (instead of being its alias).
bool ends_reference(const std::string& upper_word) {
  static constexpr std::array<std::string_view, 26> kWords = {
      "WHERE",  "JOIN",      "LEFT",  "RIGHT", "INNER",     "OUTER",  "CROSS",  "FULL",   "NATURAL",
      "ON",     "USING",     "GROUP", "ORDER", "LIMIT",     "OFFSET", "UNION",  "EXCEPT", "HAVING",
      "WINDOW", "INTERSECT", "FOR",   "SET",   "RETURNING", "VALUES", "SELECT", "WITH"};
  return std::find(kWords.begin(), kWords.end(), upper_word) != kWords.end();
}

}  // namespace

std::string sql_verb(const std::string& sql) {
  const auto t = tokens(sql);
  const auto first = std::find_if(t.begin(), t.end(), is_word);
  if (first == t.end()) return {};
  std::string verb = upper_ascii(*first);
  if (verb != "WITH") return verb;
  for (std::size_t i = static_cast<std::size_t>(first - t.begin()) + 1; i < t.size(); ++i) {
    std::string w = upper_ascii(t[i]);
    if (w == "INSERT" || w == "DELETE") return w;
    if (w == "UPDATE" && !update_not_of_a_table(t, i)) return w;
  }
  return "SELECT";
}

std::vector<std::string> tables_named(const std::string& sql) {
  const auto t = tokens(sql);
  std::vector<std::string> defined;  // WITH's names: `name AS (`
  for (std::size_t i = 0; i + 2 < t.size(); ++i) {
    if (is_word(t[i]) && upper_ascii(t[i + 1]) == "AS" && t[i + 2] == "(") defined.push_back(t[i]);
  }
  std::vector<std::string> out;
  auto add = [&](const std::string& name) {
    if (std::find(defined.begin(), defined.end(), name) != defined.end()) return;
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  };
  for (std::size_t i = 0; i + 1 < t.size(); ++i) {
    const std::string w = upper_ascii(t[i]);
    if (w == "INTO" || w == "JOIN" || (w == "UPDATE" && !update_not_of_a_table(t, i))) {
      if (is_word(t[i + 1])) add(t[i + 1]);
      continue;
    }
    if (w != "FROM") continue;
    // A FROM list: `table [AS] [alias]`, separated by commas; a subquery's own FROM is read
    // when the loop gets to it.
    std::size_t j = i + 1;
    while (j < t.size() && is_word(t[j])) {
      add(t[j++]);
      if (j < t.size() && upper_ascii(t[j]) == "AS") ++j;
      if (j < t.size() && is_word(t[j]) && !ends_reference(upper_ascii(t[j]))) ++j;
      if (j < t.size() && t[j] == ",") {
        ++j;
        continue;
      }
      break;
    }
  }
  return out;
}

}  // namespace seer::explain
