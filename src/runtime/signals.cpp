#include "seer/runtime/signals.hpp"

#include <pthread.h>
#include <csignal>
#include <thread>

namespace seer::runtime {

namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR2);  // only to wake the waiting thread when the process ends first
  return set;
}

}  // namespace

void block_stop_signals() {
  const sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void run_until_signalled(TcpNode& node, sim::Task<void> process) {
  block_stop_signals();
  std::thread waiter([&node] {
    const sigset_t set = stop_signals();
    int signal = 0;
    sigwait(&set, &signal);
    node.stop();
  });
  try {
    node.run(std::move(process));
  } catch (...) {
    pthread_kill(waiter.native_handle(), SIGUSR2);
    waiter.join();
    throw;
  }
  pthread_kill(waiter.native_handle(), SIGUSR2);
  waiter.join();
}

}  // namespace seer::runtime
