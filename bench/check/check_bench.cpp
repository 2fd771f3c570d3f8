// Linearizability checker speed on etcd-like CAS-register histories and on the Knossos corpus.
#include "seer/check/linearizability.hpp"
#include "seer/sim/prng.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>

namespace seer::check {
namespace {

// A linearizable CAS-register history like Jepsen's etcd test: `clients` processes, values 0..4,
// reads, writes and cas, ~5% of operations timing out (outcome unknown). Each op takes effect at an
// instant inside its interval, so the history is linearizable by construction.
std::vector<Operation> etcd_like_history(std::uint64_t seed, int n_ops, int clients) {
  sim::Prng rnd(seed);
  struct Pending {
    Operation op;
    std::int64_t effect;
  };
  std::vector<Operation> ops;
  std::int64_t value = 0;
  std::vector<std::int64_t> free_at(static_cast<std::size_t>(clients), 0);
  std::vector<int> process(static_cast<std::size_t>(clients));
  for (int c = 0; c < clients; ++c) process[static_cast<std::size_t>(c)] = c;
  for (int i = 0; static_cast<int>(ops.size()) < n_ops; ++i) {
    const std::int64_t t = i * 10;  // the linearization instant of op i
    const auto c = static_cast<std::size_t>(rnd.below(static_cast<std::uint64_t>(clients)));
    Operation op;
    op.process = process[c];
    op.invoke = std::max(free_at[c], t - rnd.between(0, 60));
    if (op.invoke > t) continue;  // this client is still busy at the instant: skip it
    op.complete = t + rnd.between(0, 60);
    free_at[c] = op.complete + 1;
    const auto kind = rnd.below(3);
    if (kind == 0) {
      op.f = "read";
      op.output = value;
    } else if (kind == 1) {
      value = rnd.between(0, 4);
      op.f = "write";
      op.input = value;
    } else {
      const std::int64_t expected = rnd.between(0, 4);
      const std::int64_t next = rnd.between(0, 4);
      op.f = "cas";
      op.input = nlohmann::json::array({expected, next});
      if (expected != value) continue;  // a failed cas is a :fail op: not in the checked history
      value = next;
    }
    if (rnd.chance(50'000)) {
      op.complete = kNever;
      op.output = nullptr;
      process[c] += clients;  // Jepsen: the process is done after an info
    }
    ops.push_back(std::move(op));
  }
  std::sort(ops.begin(), ops.end(),
            [](const auto& a, const auto& b) { return a.invoke < b.invoke; });
  for (std::size_t i = 0; i < ops.size(); ++i) ops[i].id = static_cast<int>(i);
  return ops;
}

void BM_EtcdLikeCasRegister100x170(benchmark::State& state) {
  std::vector<std::vector<Operation>> histories;
  for (std::uint64_t h = 0; h < 100; ++h) histories.push_back(etcd_like_history(h + 1, 170, 10));
  auto model = make_model("cas-register");
  model->set_init("0");
  for (auto _ : state) {
    int linearizable = 0;
    for (const auto& ops : histories) {
      linearizable += check_linearizable(ops, *model).verdict == Verdict::kLinearizable ? 1 : 0;
    }
    if (linearizable != 100) state.SkipWithError("a generated history was judged not linearizable");
  }
  std::size_t ops = 0, unknown = 0;
  for (const auto& h : histories) {
    ops += h.size();
    for (const auto& op : h) unknown += op.unknown() ? 1 : 0;
  }
  state.counters["ops_per_history"] = static_cast<double>(ops) / 100.0;
  state.counters["unknown_per_history"] = static_cast<double>(unknown) / 100.0;
  state.counters["histories_per_s"] = benchmark::Counter(
      100.0 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EtcdLikeCasRegister100x170)->Unit(benchmark::kMillisecond);

// Like Porcupine's etcd KV benchmark input: 50 clients, 1,700 ops (3,400 history lines), keys 0..9,
// each op taking effect inside its interval.
std::vector<Operation> kv_history(std::uint64_t seed, int n_ops, int clients, int keys) {
  sim::Prng rnd(seed);
  std::vector<Operation> ops;
  std::vector<std::int64_t> value(static_cast<std::size_t>(keys), 0);
  std::vector<std::int64_t> free_at(static_cast<std::size_t>(clients), 0);
  for (int i = 0; static_cast<int>(ops.size()) < n_ops; ++i) {
    const std::int64_t t = i * 10;
    const auto c = static_cast<std::size_t>(rnd.below(static_cast<std::uint64_t>(clients)));
    Operation op;
    op.process = static_cast<int>(c);
    op.invoke = std::max(free_at[c], t - rnd.between(0, 400));
    if (op.invoke > t) continue;
    op.complete = t + rnd.between(0, 400);
    free_at[c] = op.complete + 1;
    const auto k = static_cast<std::size_t>(rnd.below(static_cast<std::uint64_t>(keys)));
    op.key = static_cast<std::int64_t>(k);
    if (rnd.chance(500'000)) {
      op.f = "get";
      op.output = value[k];
    } else {
      value[k] = rnd.between(0, 1000);
      op.f = "put";
      op.input = value[k];
    }
    ops.push_back(std::move(op));
  }
  std::sort(ops.begin(), ops.end(),
            [](const auto& a, const auto& b) { return a.invoke < b.invoke; });
  for (std::size_t i = 0; i < ops.size(); ++i) ops[i].id = static_cast<int>(i);
  return ops;
}

void BM_Kv50Clients3400Lines(benchmark::State& state) {
  const auto ops = kv_history(1, 1700, 50, 10);
  auto model = make_model("kv");
  model->set_init("0");
  CheckOptions options;
  options.jobs = static_cast<unsigned>(state.range(0));
  for (auto _ : state) {
    if (check_linearizable(ops, *model, options).verdict != Verdict::kLinearizable) {
      state.SkipWithError("generated history judged not linearizable");
    }
  }
}
BENCHMARK(BM_Kv50Clients3400Lines)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// Porcupine's third workload: a 10-client KV history. Porcupine checks it without partitioning
// (1.6 s); seer partitions by key, so both numbers are here: the kv model (per key, 1 job) and the
// same history as one state over all keys (multi-register transactions of one micro-op each).
void BM_Kv10Clients(benchmark::State& state) {
  const auto ops = kv_history(2, 1700, 10, 10);
  const bool whole = state.range(0) == 1;
  std::vector<Operation> txns = ops;
  for (auto& op : txns) {
    const std::string key = ":k" + op.key.dump();
    op.output =
        nlohmann::json::array({op.f == "get" ? nlohmann::json::array({":read", key, op.output})
                                             : nlohmann::json::array({":write", key, op.input})});
    op.input = op.output;
    op.f = "txn";
    op.key = nullptr;
  }
  for (auto _ : state) {
    auto model = make_model(whole ? "multi-register" : "kv");
    if (whole) {
      model->set_init("{:k0 0 :k1 0 :k2 0 :k3 0 :k4 0 :k5 0 :k6 0 :k7 0 :k8 0 :k9 0}");
    } else {
      model->set_init("0");
    }
    if (check_linearizable(whole ? txns : ops, *model).verdict != Verdict::kLinearizable) {
      state.SkipWithError("generated history judged not linearizable");
    }
  }
  state.SetLabel(whole ? "one state, no partitioning" : "partitioned by key");
}
BENCHMARK(BM_Kv10Clients)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// A grow-only set with distinct adds: the linear-time checker against the general search.
void BM_Set(benchmark::State& state) {
  sim::Prng rnd(3);
  std::vector<Operation> ops;
  nlohmann::json set = nlohmann::json::array();
  const int n = static_cast<int>(state.range(1));
  for (int i = 0; i < n; ++i) {
    Operation op;
    op.process = i % 10;
    const std::int64_t t = i * 10;
    op.invoke = t - rnd.between(0, 30);
    op.complete = t + rnd.between(0, 30);
    if (rnd.chance(500'000)) {
      set.push_back(i);
      op.f = "add";
      op.input = i;
    } else {
      op.f = "read";
      op.output = set;
    }
    ops.push_back(std::move(op));
  }
  std::sort(ops.begin(), ops.end(),
            [](const auto& a, const auto& b) { return a.invoke < b.invoke; });
  for (std::size_t i = 0; i < ops.size(); ++i) ops[i].id = static_cast<int>(i);
  CheckOptions options;
  options.special = state.range(0) == 1;
  for (auto _ : state) {
    auto model = make_model("set");
    if (check_linearizable(ops, *model, options).verdict != Verdict::kLinearizable) {
      state.SkipWithError("generated history judged not linearizable");
    }
  }
  state.SetLabel(options.special ? "linear-time checker" : "general search");
}
BENCHMARK(BM_Set)->Args({1, 200})->Args({0, 200})->Args({1, 2000})->Unit(benchmark::kMillisecond);

void BM_KnossosCorpusCasRegister(benchmark::State& state) {
  const std::string dir = std::string(SEER_KNOSSOS_DIR) + "/cas-register";
  if (!std::filesystem::exists(dir)) {
    state.SkipWithError("no Knossos corpus beside the checkout");
    return;
  }
  std::vector<std::vector<Operation>> histories;
  for (const auto& sub : {"good", "bad"}) {
    for (const auto& f : std::filesystem::directory_iterator(dir + "/" + sub)) {
      histories.push_back(read_history_file(f.path().string()));
    }
  }
  auto model = make_model("cas-register");
  model->set_init("0");
  for (auto _ : state) {
    for (const auto& ops : histories)
      benchmark::DoNotOptimize(check_linearizable(ops, *model).verdict);
  }
  state.counters["histories"] = static_cast<double>(histories.size());
}
BENCHMARK(BM_KnossosCorpusCasRegister)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace seer::check
