// Two TcpNodes in one test process on loopback: typed messages go both ways; a message to a dead
// peer is dropped and the sender goes on; a restarted peer is reachable again; a frame of an
// unknown payload type, or bytes that are not frames, are logged and dropped.
#include "seer/runtime/tcp_node.hpp"
#include "seer/runtime/codec.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace seer::runtime {
namespace {

struct Hello final : sim::Payload {
  explicit Hello(int n) : n(n) {}
  std::string_view type() const override { return "tcp_test_ping"; }
  nlohmann::json to_json() const override { return {{"n", n}}; }
  static sim::PayloadPtr from_json(const nlohmann::json& j) {
    return std::make_shared<const Hello>(j.at("n").get<int>());
  }
  int n;
};
SEER_REGISTER_PAYLOAD("tcp_test_ping", Hello);

struct Unregistered final : sim::Payload {
  std::string_view type() const override { return "tcp_test_unregistered"; }
  nlohmann::json to_json() const override { return nlohmann::json::object(); }
};

NodeConfig three_processes() {
  return NodeConfig::loopback({"a", "b", "dead"});
}

// b: answers each ping with n + 1, until stopped.
sim::Task<void> answer_hellos(sim::Env& env) {
  for (;;) {
    const auto m = co_await env.receive();
    if (const auto* ping = m.as<Hello>()) env.send(m.from, std::make_shared<Hello>(ping->n + 1));
  }
}

// Hosts a node on its own thread, running `echo`.
struct AnsweringNode {
  explicit AnsweringNode(const NodeConfig& config, TcpNode::Log log = {})
      : node(config, "b", nullptr, std::move(log)),
        thread([this] { node.run(answer_hellos(node.env())); }) {}
  ~AnsweringNode() {
    node.stop();
    thread.join();
  }
  TcpNode node;
  std::thread thread;
};

// A node's log lines, written from its network thread and read by the test's.
class LogLines {
 public:
  TcpNode::Log sink() {
    return [this](const std::string& line) {
      std::lock_guard lock(mutex_);
      lines_.push_back(line);
    };
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// What a node's network thread counts is seen by the test's thread a little later: wait for it
// (up to 5 s).
template <typename Condition>
void wait_for(Condition done) {
  for (int i = 0; i < 500 && !done(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

// Sends ping n to `to` every 20 ms until its answer (from `to`) arrives; -1 after 5 s.
sim::Task<void> hello_until_answered(sim::Env& env, sim::ProcessId to, int n, int& answer) {
  answer = -1;
  const sim::Time give_up = env.now() + sim::seconds(5);
  while (env.now() < give_up) {
    env.send(to, std::make_shared<Hello>(n));
    const auto m = co_await env.receive_for(sim::milliseconds(20));
    if (m && m->from == to && m->as<Hello>() && m->as<Hello>()->n == n + 1) {
      answer = n + 1;
      co_return;
    }
  }
}

TEST(TcpNode, TypedMessagesGoBothWaysInOrder) {
  const auto config = three_processes();
  AnsweringNode b(config);
  TcpNode a(config, "a");
  std::vector<int> answers;
  a.run([](sim::Env& env, sim::ProcessId b, std::vector<int>& answers) -> sim::Task<void> {
    for (int i = 0; i < 100; ++i) env.send(b, std::make_shared<Hello>(i));
    while (answers.size() < 100) {
      const auto m = co_await env.receive_for(sim::seconds(5));
      if (!m) co_return;
      EXPECT_EQ(m->from, b);
      EXPECT_EQ(env.name_of(m->from), "b");
      answers.push_back(m->as<Hello>()->n);
    }
  }(a.env(), a.id_of("b"), answers));
  ASSERT_EQ(answers.size(), 100U);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(answers[i], i + 1);
  EXPECT_EQ(a.stats().received, 100U);
  EXPECT_EQ(b.node.stats().received, 100U);
}

// Holds a port bound but not listening, so that connecting to it is refused and no other program
// (a test running beside this one) can listen there meanwhile: the dead peer stays dead.
class HeldPort {
 public:
  explicit HeldPort(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    held_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  HeldPort(const HeldPort&) = delete;
  HeldPort& operator=(const HeldPort&) = delete;
  ~HeldPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool held() const { return held_; }

 private:
  int fd_;
  bool held_ = false;
};

TEST(TcpNode, AMessageToADeadPeerIsDroppedAndTheSenderGoesOn) {
  const auto config = three_processes();
  // Without it, another test's node once took the freed port and dropped the message as "for
  // process 2, not this one" (CI, 12-05).
  const HeldPort dead_port(config.at("dead").port);
  ASSERT_TRUE(dead_port.held());
  AnsweringNode b(config);
  LogLines log;
  TcpNode a(config, "a", nullptr, log.sink());
  int answer = 0;
  a.run([](sim::Env& env, sim::ProcessId dead, sim::ProcessId b, int& answer) -> sim::Task<void> {
    env.send(dead, std::make_shared<Hello>(1));
    co_await hello_until_answered(env, b, 7, answer);
  }(a.env(), a.id_of("dead"), a.id_of("b"), answer));
  EXPECT_EQ(answer, 8);
  wait_for([&] { return a.stats().dropped > 0; });  // the refusal, seen on the network thread
  EXPECT_EQ(a.stats().dropped, 1U);
  const auto lines = log.lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find("dropped 1 message(s) to dead"), std::string::npos) << lines[0];
}

TEST(TcpNode, ARestartedPeerIsReachableAgain) {
  const auto config = three_processes();
  TcpNode a(config, "a", nullptr, [](const std::string&) {});
  const auto b_id = a.id_of("b");
  int answer = 0;
  {
    AnsweringNode b(config);
    a.run(hello_until_answered(a.env(), b_id, 1, answer));
    ASSERT_EQ(answer, 2);
  }
  // b is gone: a hello goes nowhere, and a goes on. (Late answers to the hellos above, sent
  // every 20 ms, may still arrive: only an answer to this one would be wrong.)
  bool answered = false;
  a.run([](sim::Env& env, sim::ProcessId b, bool& answered) -> sim::Task<void> {
    env.send(b, std::make_shared<Hello>(3));
    const sim::Time until = env.now() + sim::milliseconds(50);
    while (env.now() < until) {
      const auto m = co_await env.receive_for(until - env.now());
      if (m && m->as<Hello>() && m->as<Hello>()->n == 4) answered = true;
    }
  }(a.env(), b_id, answered));
  EXPECT_FALSE(answered);
  AnsweringNode b(config);  // restarted, on the same port
  a.run(hello_until_answered(a.env(), b_id, 10, answer));
  EXPECT_EQ(answer, 11);
}

TEST(TcpNode, AnUnknownPayloadTypeIsLoggedAndDropped) {
  const auto config = three_processes();
  LogLines log;
  AnsweringNode b(config, log.sink());
  TcpNode a(config, "a");
  int answer = 0;
  a.run([](sim::Env& env, sim::ProcessId b, int& answer) -> sim::Task<void> {
    env.send(b, std::make_shared<Unregistered>());
    co_await hello_until_answered(env, b, 20, answer);  // b lives on, and answers
  }(a.env(), a.id_of("b"), answer));
  EXPECT_EQ(answer, 21);
  EXPECT_EQ(b.node.stats().undecodable, 1U);
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_NE(lines[0].find("tcp_test_unregistered"), std::string::npos) << lines[0];
}

// Writes `bytes` to b's port on a raw connection and closes it.
void send_raw(const NodeAddress& to, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(to.port);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

TEST(TcpNode, GarbageOnThePortIsLoggedAndTheNodeServesOn) {
  const auto config = three_processes();
  LogLines log;
  AnsweringNode b(config, log.sink());
  send_raw(config.at("b"), "GET / HTTP/1.1\r\n\r\n");                // a length of a gigabyte
  send_raw(config.at("b"), std::string("\0\0\0\x05", 4) + "{nope");  // not JSON
  TcpNode a(config, "a");
  int answer = 0;
  a.run(hello_until_answered(a.env(), a.id_of("b"), 30, answer));
  EXPECT_EQ(answer, 31);
  wait_for([&] { return b.node.stats().undecodable >= 2; });
  EXPECT_EQ(b.node.stats().undecodable, 2U);
  EXPECT_EQ(log.lines().size(), 2U);
}

// A frame nested 100,000 deep parses (nlohmann's parser is iterative), but dump() and
// comparisons recurse: it is dropped as malformed before anything can print it.
TEST(TcpNode, AFrameNestedTooDeepIsDroppedAndTheNodeServesOn) {
  const auto config = three_processes();
  LogLines log;
  AnsweringNode b(config, log.sink());
  const std::string deep(100000, '[');
  const std::string frame = R"({"from":0,"to":)" + std::to_string(config.at("b").id) +
                            R"(,"type":"x","body":)" + deep + std::string(100000, ']') + "}";
  const auto n = static_cast<std::uint32_t>(frame.size());
  const char length[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                          static_cast<char>(n >> 8), static_cast<char>(n)};
  send_raw(config.at("b"), std::string(length, 4) + frame);
  TcpNode a(config, "a");
  int answer = 0;
  a.run(hello_until_answered(a.env(), a.id_of("b"), 40, answer));
  EXPECT_EQ(answer, 41);
  wait_for([&] { return b.node.stats().undecodable >= 1; });
  EXPECT_EQ(b.node.stats().undecodable, 1U);
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_NE(lines[0].find("nested deeper than 512"), std::string::npos) << lines[0];
}

TEST(NodeConfig, BadConfigsSayWhatIsWrong) {
  EXPECT_THROW(NodeConfig::parse(nlohmann::json::array()), ConfigError);
  EXPECT_THROW(NodeConfig::parse({{"processes", {{"a", {{"id", 0}, {"address", "nohost"}}}}}}),
               ConfigError);
  EXPECT_THROW(NodeConfig::parse({{"processes",
                                   {{"a", {{"id", 0}, {"address", "h:1"}}},
                                    {"b", {{"id", 0}, {"address", "h:2"}}}}}}),
               ConfigError);
  EXPECT_THROW(NodeConfig::parse({{"processes", {{"a", {{"id", 0}, {"address", "h:99999"}}}}}}),
               ConfigError);
  EXPECT_THROW(TcpNode(three_processes(), "nobody"), ConfigError);
}

}  // namespace
}  // namespace seer::runtime
