#include "seer/runtime/tcp_node.hpp"

#include "seer/runtime/codec.hpp"
#include "wire.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace seer::runtime {

namespace {

using Clock = std::chrono::steady_clock;

// How long a connect may take before the peer counts as unreachable, and how many frames may wait
// for one peer's connection: beyond either, messages are dropped as a lossy network would.
constexpr auto kConnectTimeout = std::chrono::seconds(1);
constexpr std::size_t kMaxPending = 10'000;

std::optional<sockaddr_in> resolve(const NodeAddress& a) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(a.host.c_str(), nullptr, &hints, &found) != 0 || !found) return std::nullopt;
  sockaddr_in addr{};
  std::memcpy(&addr, found->ai_addr, sizeof addr);
  ::freeaddrinfo(found);
  addr.sin_port = htons(a.port);
  return addr;
}

}  // namespace

// The network thread: accepts peers' connections and reads their frames; owns one outgoing
// connection per peer it sends to. The loop thread hands it frames through `queued`.
struct TcpNode::Network {
  struct Peer {
    NodeAddress address;
    int fd = -1;
    bool connecting = false;
    Clock::time_point deadline;
    std::deque<std::string> pending;  // encoded frames, the front one partly written at `offset`
    std::size_t offset = 0;
  };
  struct Inbound {
    int fd;
    wire::Reader reader;
  };

  TcpNode& node;
  Log log;
  int listen_fd = -1;
  int wake[2] = {-1, -1};
  std::mutex mutex;
  std::vector<std::pair<sim::ProcessId, std::string>> queued;  // guarded by mutex
  bool stopping = false;                                       // guarded by mutex
  std::map<sim::ProcessId, Peer> peers;
  std::vector<Inbound> inbound;
  std::atomic<std::uint64_t> sent{0}, received{0}, dropped{0}, undecodable{0};
  std::thread thread;

  Network(TcpNode& n, Log l) : node(n), log(std::move(l)) {}

  ~Network() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    poke();
    if (thread.joinable()) thread.join();
    for (auto& [id, peer] : peers) close_peer(peer);
    for (auto& in : inbound) ::close(in.fd);
    if (listen_fd >= 0) ::close(listen_fd);
    for (const int fd : wake) {
      if (fd >= 0) ::close(fd);
    }
  }

  void note(const std::string& line) { log(node.self_.name + ": " + line); }

  void poke() {
    const char byte = 1;
    [[maybe_unused]] const auto n = ::write(wake[1], &byte, 1);
  }

  void listen(const NodeAddress& self) {
    if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe failed");
    const auto addr = resolve(self);
    if (!addr) throw std::runtime_error("cannot resolve " + self.host);
    listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    const int one = 1;
    ::setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(listen_fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0 ||
        ::listen(listen_fd, 64) != 0) {
      throw std::runtime_error("cannot listen on " + self.host + ":" + std::to_string(self.port) +
                               ": " + std::strerror(errno));
    }
    thread = std::thread([this] { loop(); });
  }

  // Called on the loop thread for every send.
  void send(sim::ProcessId to, std::string frame) {
    {
      std::lock_guard lock(mutex);
      queued.emplace_back(to, std::move(frame));
    }
    poke();
  }

  void close_peer(Peer& peer) {
    if (peer.fd >= 0) ::close(peer.fd);
    peer.fd = -1;
    peer.connecting = false;
    peer.offset = 0;
  }

  void drop_pending(Peer& peer, const std::string& why) {
    if (!peer.pending.empty()) {
      note("dropped " + std::to_string(peer.pending.size()) + " message(s) to " +
           peer.address.name + ": " + why);
    }
    dropped += peer.pending.size();
    peer.pending.clear();
    close_peer(peer);
  }

  void start_connect(Peer& peer) {
    const auto addr = resolve(peer.address);
    if (!addr) return drop_pending(peer, "cannot resolve " + peer.address.host);
    peer.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    const int one = 1;
    ::setsockopt(peer.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(peer.fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0 &&
        errno != EINPROGRESS) {
      return drop_pending(peer, std::strerror(errno));
    }
    peer.connecting = true;
    peer.deadline = Clock::now() + kConnectTimeout;
  }

  void take_queued() {
    std::vector<std::pair<sim::ProcessId, std::string>> taken;
    {
      std::lock_guard lock(mutex);
      taken.swap(queued);
    }
    for (auto& [to, frame] : taken) {
      auto it = peers.find(to);
      if (it == peers.end()) {
        it = peers.emplace(to, Peer{*node.config_.find(to), -1, false, {}, {}, 0}).first;
      }
      if (it->second.pending.size() >= kMaxPending) {
        ++dropped;
        continue;
      }
      it->second.pending.push_back(std::move(frame));
    }
    for (auto& [id, peer] : peers) {
      if (!peer.pending.empty() && peer.fd < 0) start_connect(peer);
    }
  }

  void write_pending(Peer& peer) {
    while (!peer.pending.empty()) {
      const auto& frame = peer.pending.front();
      const ssize_t n =
          ::send(peer.fd, frame.data() + peer.offset, frame.size() - peer.offset, MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      if (n < 0) return drop_pending(peer, std::strerror(errno));
      peer.offset += static_cast<std::size_t>(n);
      if (peer.offset < frame.size()) return;
      peer.pending.pop_front();
      peer.offset = 0;
      ++sent;
    }
  }

  // Readable on an outgoing connection: the peer closed it (it never sends on it).
  void peer_readable(Peer& peer) {
    char buf[256];
    const ssize_t n = ::recv(peer.fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) close_peer(peer);
  }

  void deliver(const std::string& text) {
    wire::Frame frame;
    try {
      frame = wire::parse(text);
    } catch (const std::exception& e) {
      ++undecodable;
      return note(std::string("dropped a malformed frame: ") + e.what());
    }
    if (frame.to != node.self_.id) {
      ++undecodable;
      return note("dropped a message for process " + std::to_string(frame.to) + ", not this one");
    }
    try {
      auto payload = decode_payload(frame.type, frame.body);
      ++received;  // before the process can see it, so a reply implies the count
      node.env_.post(frame.from, std::move(payload));
    } catch (const DecodeError& e) {
      ++undecodable;
      note("dropped a message from process " + std::to_string(frame.from) + ": " + e.what());
    }
  }

  // False when the connection is done (closed, or it sent something that is not a frame).
  bool read_inbound(Inbound& in) {
    char buf[65536];
    for (;;) {
      const ssize_t n = ::recv(in.fd, buf, sizeof buf, 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
      if (n <= 0) return false;
      in.reader.feed(buf, static_cast<std::size_t>(n));
      try {
        while (auto text = in.reader.next()) deliver(*text);
      } catch (const std::exception& e) {
        ++undecodable;
        note(std::string("closed a connection that sent ") + e.what());
        return false;
      }
    }
  }

  void accept_all() {
    for (;;) {
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) return;
      inbound.push_back({fd, {}});
    }
  }

  void loop() {
    for (;;) {
      {
        std::lock_guard lock(mutex);
        if (stopping) return;
      }
      take_queued();
      std::vector<pollfd> fds{{wake[0], POLLIN, 0}, {listen_fd, POLLIN, 0}};
      std::vector<Peer*> polled;
      auto timeout = std::chrono::milliseconds(1000);
      for (auto& [id, peer] : peers) {
        if (peer.fd < 0) continue;
        const short out = peer.connecting || !peer.pending.empty() ? POLLOUT : 0;
        fds.push_back({peer.fd, static_cast<short>(POLLIN | out), 0});
        polled.push_back(&peer);
        if (peer.connecting) {
          timeout = std::min(
              timeout, std::chrono::ceil<std::chrono::milliseconds>(peer.deadline - Clock::now()));
        }
      }
      const std::size_t first_inbound = fds.size();
      for (const auto& in : inbound) fds.push_back({in.fd, POLLIN, 0});
      ::poll(fds.data(), fds.size(), static_cast<int>(std::max<std::int64_t>(timeout.count(), 0)));
      if (fds[0].revents) {
        char drain[256];
        while (::read(wake[0], drain, sizeof drain) > 0) {
        }
      }
      if (fds[1].revents) accept_all();
      for (std::size_t i = 0; i < polled.size(); ++i) {
        Peer& peer = *polled[i];
        const short ev = fds[2 + i].revents;
        if (peer.connecting) {
          if (ev & (POLLOUT | POLLERR | POLLHUP)) {
            int err = 0;
            socklen_t len = sizeof err;
            ::getsockopt(peer.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0) {
              drop_pending(peer, std::strerror(err));
              continue;
            }
            peer.connecting = false;
          } else if (Clock::now() >= peer.deadline) {
            drop_pending(peer, "connect timed out");
            continue;
          } else {
            continue;
          }
        }
        if (ev & POLLIN) peer_readable(peer);
        if (peer.fd >= 0 && (ev & (POLLERR | POLLHUP))) close_peer(peer);
        if (peer.fd >= 0) write_pending(peer);
      }
      // Only the connections polled: those accepted above come after them, and wait for the
      // next round.
      std::vector<Inbound> kept;
      for (std::size_t i = 0; i < inbound.size(); ++i) {
        const bool polled_now = first_inbound + i < fds.size();
        if (polled_now && fds[first_inbound + i].revents && !read_inbound(inbound[i])) {
          ::close(inbound[i].fd);
        } else {
          kept.push_back(std::move(inbound[i]));
        }
      }
      inbound.swap(kept);
    }
  }
};

TcpNode::TcpNode(NodeConfig config, const std::string& name, sim::Storage* storage, Log log)
    : config_(std::move(config)),
      self_(config_.at(name)),
      env_(
          self_.id, name,
          [this](sim::ProcessId to, sim::PayloadPtr body) {
            if (to == self_.id) return env_.post(to, std::move(body));
            if (!config_.find(to)) {
              network_->note("dropped a message to process " + std::to_string(to) +
                             ", which is not in the config");
              ++network_->dropped;
              return;
            }
            network_->send(to, wire::encode(self_.id, to, *body));
          },
          storage) {
  if (!log) log = [](const std::string& line) { std::cerr << line + "\n" << std::flush; };
  std::map<sim::ProcessId, std::string> names;
  for (const auto& p : config_.processes) names[p.id] = p.name;
  env_.set_names(std::move(names));
  network_ = std::make_unique<Network>(*this, std::move(log));
  network_->listen(self_);
}

TcpNode::~TcpNode() = default;

TcpNode::Stats TcpNode::stats() const {
  return {network_->sent, network_->received, network_->dropped, network_->undecodable};
}

}  // namespace seer::runtime
