// A get reads its one key exactly: a write of a longer key that the read key is a prefix of
// (`owners/2` against `owners`) is another key and changed nothing the get returned
// (docs/explain.md, accesses; sixteenth set, `name_index`).
#include "explain_fixture.hpp"
#include "seer/explain/redact.hpp"

#include <gtest/gtest.h>

#include <string>

namespace seer::explain::prefix_key_test {
namespace {

using testing::cause_told;
using testing::explained;
using testing::hand_written;
using testing::parse;
using testing::replaced;

// traces/decided_by_message.jsonl: worker reads `owners` (#8) and runs t-6 on it (#9) while
// admin's put of `owners` (#12) changes it: outdated (its own test). Here admin puts
// `owners/2` instead, a key the get of `owners` never returns.
std::string longer_key() {
  return replaced(hand_written("decided_by_message.jsonl"), R"("op": "put", "key": "owners")",
                  R"("op": "put", "key": "owners/2")");
}

TEST(ExplainPrefixKey, AWriteOfALongerKeyDidNotChangeTheGet) {
  const auto text = longer_key();
  EXPECT_EQ(cause_told(explained(parse(text)), "decided_by_message"), nullptr);
  EXPECT_EQ(cause_told(explained(redact(parse(text))), "decided_by_message"), nullptr);
}

// The same key still does, from a log too.
TEST(ExplainPrefixKey, AWriteOfTheSameKeyStillDoes) {
  const auto text = hand_written("decided_by_message.jsonl");
  EXPECT_NE(cause_told(explained(parse(text)), "decided_by_message"), nullptr);
  EXPECT_NE(cause_told(explained(redact(parse(text))), "decided_by_message"), nullptr);
}

}  // namespace
}  // namespace seer::explain::prefix_key_test
