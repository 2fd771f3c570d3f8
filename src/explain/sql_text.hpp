// What a SQL statement's text tells a reader of a log, who sees the statement but not the
// database: its kind (a read or a write) and the tables it names. Plain text rules, not a parser:
// good for the statements designs send (SELECT, WITH ... SELECT, INSERT, UPDATE, DELETE), with
// string literals skipped.
#pragma once

#include <string>
#include <vector>

namespace seer::explain {

// The statement's kind, upper case: its first keyword, except that a WITH is the kind of what its
// common table expressions and body do: INSERT, UPDATE or DELETE if one of them writes (the first
// such keyword; not FOR UPDATE), else SELECT. Empty for a text with no word.
std::string sql_verb(const std::string& sql);

// The tables the statement names: after FROM (each of a comma-separated list), JOIN, INTO and
// UPDATE, in order of first appearance, without the names its WITH defines and without the
// keywords of FOR UPDATE and ON CONFLICT DO UPDATE.
std::vector<std::string> tables_named(const std::string& sql);

}  // namespace seer::explain
