// What a log's reader takes from a SQL statement's text (src/explain/sql_text.hpp): whether it
// writes, and the tables it names, for the shapes designs send.
#include "sql_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace seer::explain {
namespace {

using Names = std::vector<std::string>;

TEST(SqlText, AWithIsTheKindOfWhatItDoes) {
  EXPECT_EQ(sql_verb("select * from t"), "SELECT");
  EXPECT_EQ(sql_verb("  (SELECT 1)"), "SELECT");
  EXPECT_EQ(sql_verb("WITH n AS (SELECT 1 AS id) SELECT x.v FROM t AS x, n WHERE x.k = n.id"),
            "SELECT");
  EXPECT_EQ(sql_verb("WITH g AS (UPDATE t SET v = 1 RETURNING 1) SELECT count(*) FROM g"),
            "UPDATE");
  EXPECT_EQ(sql_verb("with d as (delete from t returning k) insert into u select k from d"),
            "DELETE");
  EXPECT_EQ(sql_verb("WITH n AS (SELECT k FROM t FOR UPDATE) SELECT * FROM n"), "SELECT");
  // A literal's words are data.
  EXPECT_EQ(sql_verb("WITH n AS (SELECT 'update it' AS k) SELECT k FROM n"), "SELECT");
  EXPECT_EQ(sql_verb("INSERT INTO t VALUES (1)"), "INSERT");
  EXPECT_EQ(sql_verb(" ( "), "");
}

TEST(SqlText, TheTablesOfAFromListAndNotWhatAWithDefines) {
  EXPECT_EQ(tables_named("SELECT a.v, b.w FROM alpha AS a, beta b, gamma WHERE a.k = b.k"),
            (Names{"alpha", "beta", "gamma"}));
  EXPECT_EQ(tables_named("WITH n AS (SELECT c.k AS id FROM links AS c WHERE c.k = ?1) "
                         "SELECT 0, x.v FROM items AS x, n WHERE x.k = n.id UNION ALL "
                         "SELECT 1, x.v FROM notes AS x, n WHERE x.k = n.id"),
            (Names{"links", "items", "notes"}));
  EXPECT_EQ(tables_named("SELECT v FROM t JOIN u ON t.k = u.k LEFT JOIN w USING (k)"),
            (Names{"t", "u", "w"}));
  EXPECT_EQ(tables_named("SELECT v FROM (SELECT v FROM inner_t) AS s"), (Names{"inner_t"}));
}

TEST(SqlText, WritesNameTheirTableButLocksAndUpsertsDoNotNameAnother) {
  EXPECT_EQ(tables_named("UPDATE accounts SET v = ?1 WHERE k = ?2"), (Names{"accounts"}));
  EXPECT_EQ(tables_named("INSERT INTO t (k, v) VALUES (?1, ?2) ON CONFLICT (k) DO UPDATE SET "
                         "v = excluded.v"),
            (Names{"t"}));
  EXPECT_EQ(tables_named("SELECT k FROM jobs WHERE done = 0 FOR UPDATE SKIP LOCKED"),
            (Names{"jobs"}));
  EXPECT_EQ(tables_named("DELETE FROM t WHERE k = 'FROM fake'"), (Names{"t"}));
}

}  // namespace
}  // namespace seer::explain
