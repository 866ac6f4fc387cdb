// forward_bench: times Circuitry's runtime forward pass on a real model (default SmolLM2-135M
// from models/smollm2-135m, GGUF dequantized to fp32) for one fixed batch, with no hooks, with
// an empty HookSet, with every hook point cached, and with one add-hook; prints the median of
// N timed runs (after warm-up) and the process's peak resident memory, as text or JSON. Part of bench/,
// a measurement tool, never a test: bench/run_forward.py runs it next to Hugging Face.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/formats/model_source.h"
#include "runtime/hooks/hook_set.h"
#include "runtime/model/hooked_model.h"
#include "runtime/model/runtime_options.h"

namespace {

using circuit::rt::HookedModel;
using circuit::rt::HookSet;

struct Options {
  std::string model = "smollm2-135m";
  std::string models_dir;
  int threads = 2;
  int batch = 8;
  int seq = 128;
  int runs = 5;
  int warmup = 1;
  std::string add_point;  // empty: the middle layer's hook_resid_post
  bool json = false;
};

const char* kUsage =
    "usage: forward_bench [--model NAME|DIR|FILE.gguf] [--models-dir DIR] [--threads N]\n"
    "                     [--batch B] [--seq T] [--runs N] [--warmup W] [--add-point NAME] [--json]\n";

int parse_int(const std::string& flag, const char* text, int min) {
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < min || v > 1'000'000)
    throw std::invalid_argument(flag + " wants an integer >= " + std::to_string(min) + ", got '" + text + "'");
  return static_cast<int>(v);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--model") o.model = value();
    else if (a == "--models-dir") o.models_dir = value();
    else if (a == "--threads") o.threads = parse_int(a, value(), 1);
    else if (a == "--batch") o.batch = parse_int(a, value(), 1);
    else if (a == "--seq") o.seq = parse_int(a, value(), 1);
    else if (a == "--runs") o.runs = parse_int(a, value(), 1);
    else if (a == "--warmup") o.warmup = parse_int(a, value(), 0);
    else if (a == "--add-point") o.add_point = value();
    else if (a == "--json") o.json = true;
    else if (a == "-h" || a == "--help") { std::cout << kUsage; std::exit(0); }
    else throw std::invalid_argument("unknown option '" + a + "'\n" + kUsage);
  }
  return o;
}

// The same ids bench/run_forward.py feeds Hugging Face: a fixed arithmetic pattern spread
// over the vocabulary (no tokenizer needed, identical on both sides).
at::Tensor bench_tokens(int batch, int seq, std::int64_t vocab) {
  auto t = at::empty({batch, seq}, at::kLong);
  auto a = t.accessor<std::int64_t, 2>();
  for (int b = 0; b < batch; ++b)
    for (int i = 0; i < seq; ++i) a[b][i] = (1 + 7919LL * (b * seq + i) + 104729LL * b) % vocab;
  return t;
}

// Peak resident set of this process, MiB. Linux: VmHWM, the high-water mark of this address
// space; getrusage's ru_maxrss would also count the parent's pages when run from a large
// process (it survives fork and exec), as it is from run_forward.py after Hugging Face.
double peak_rss_mib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux: kilobytes
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Mode {
  std::string name;
  std::string what;
  std::function<at::Tensor()> forward;
  std::vector<double> seconds;
  double peak_rss_after_mib = 0;  // after this mode's first forward (modes run in order first)
  std::int64_t cached_points = 0;
  double cached_mib = 0;
};

double time_forward(Mode& mode) {
  auto start = std::chrono::steady_clock::now();
  at::Tensor logits = mode.forward();
  auto stop = std::chrono::steady_clock::now();
  if (!logits.defined() || logits.dim() != 3) throw std::runtime_error(mode.name + ": forward returned no logits");
  return std::chrono::duration<double>(stop - start).count();
}

// Each mode's warm-up forwards in turn (recording the memory each adds), then `runs` rounds
// of one timed forward per mode, in rotating order: interleaving keeps a change in the machine's load during the
// run from landing on one mode only, so the ratios stay fair on a shared machine.
void time_modes(std::vector<Mode>& modes, const Options& o) {
  for (Mode& m : modes) {
    for (int i = 0; i < o.warmup; ++i) time_forward(m);
    if (o.warmup > 0) m.peak_rss_after_mib = peak_rss_mib();
  }
  const size_t n = modes.size();
  for (int r = 0; r < o.runs; ++r) {
    // Each round starts at the next mode, so no mode always follows the same one (the first
    // forward after cache_all pays for the memory the caches took and released).
    for (size_t k = 0; k < n; ++k) {
      Mode& m = modes[(static_cast<size_t>(r) + k) % n];
      m.seconds.push_back(time_forward(m));
      if (r == 0 && o.warmup == 0) m.peak_rss_after_mib = peak_rss_mib();
    }
  }
}

int run(const Options& o) {
  namespace fmt = circuit::formats;
  const std::string models_dir = o.models_dir.empty() ? fmt::models_folder(CIRCUIT_BENCH_SOURCE_DIR) : o.models_dir;
  fmt::ModelSource source = fmt::resolve_model(o.model, models_dir);
  circuit::rt::RuntimeOptions ropts;
  ropts.threads = o.threads;
  circuit::rt::apply_thread_count(o.threads);
  // One inter-op thread: the forward is a chain of intra-op-parallel kernels.
  at::set_num_interop_threads(1);

  const double rss_before_load = peak_rss_mib();
  auto load_start = std::chrono::steady_clock::now();
  HookedModel model = HookedModel::load(source, ropts);
  const double load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  const double rss_after_load = peak_rss_mib();
  const auto& cfg = model.config();

  at::Tensor tokens = bench_tokens(o.batch, o.seq, cfg.d_vocab);
  c10::InferenceMode inference;

  HookSet empty(cfg);
  HookSet one_add(cfg);
  const std::string add_point = o.add_point.empty()
      ? "blocks." + std::to_string(cfg.n_layers / 2) + ".hook_resid_post" : o.add_point;
  one_add.add(one_add.ref(add_point), at::full({cfg.d_model}, 0.01f, at::kFloat));
  HookSet all(cfg);
  all.cache_all();

  std::vector<Mode> modes;
  at::Tensor probe;  // a few logits for run_forward.py to compare with Hugging Face's
  modes.push_back({"plain", "forward(tokens), no HookSet", [&] {
                     at::Tensor logits = model.forward(tokens);
                     probe = logits.select(0, 0).select(0, -1).slice(0, 0, 8).to(at::kDouble).contiguous();
                     return logits;
                   }});
  modes.push_back({"hooks_none", "forward with an empty HookSet", [&] { return model.forward(tokens, &empty); }});
  modes.push_back({"one_add", "one add-hook at " + add_point, [&] { return model.forward(tokens, &one_add); }});
  modes.push_back({"cache_all", "every (non-opt-in) hook point cached", [&] { return model.forward(tokens, &all); }});
  time_modes(modes, o);
  for (const auto& [name, t] : all.caches()) {
    modes.back().cached_points += 1;
    modes.back().cached_mib += static_cast<double>(t.numel() * t.element_size()) / (1024.0 * 1024.0);
  }

  std::vector<double> logits_probe(probe.data_ptr<double>(), probe.data_ptr<double>() + probe.numel());

  const std::int64_t params = model.parameter_count();
  std::int64_t token_sum = tokens.sum().item<std::int64_t>();
  if (o.json) {
    nlohmann::json j;
    j["tool"] = "circuitry";
    j["model"] = source.name;
    j["model_kind"] = fmt::model_kind_name(source.kind);
    j["weights"] = source.weights;
    j["dtype"] = model.dtype_name();
    j["threads"] = at::get_num_threads();
    j["batch"] = o.batch;
    j["seq"] = o.seq;
    j["runs"] = o.runs;
    j["warmup"] = o.warmup;
    j["token_sum"] = token_sum;
    j["logits_probe"] = logits_probe;
    j["parameters"] = params;
    j["load_seconds"] = load_seconds;
    j["peak_rss_before_load_mib"] = rss_before_load;
    j["peak_rss_after_load_mib"] = rss_after_load;
    j["peak_rss_mib"] = peak_rss_mib();
    for (const auto& t : modes) {
      nlohmann::json m;
      m["what"] = t.what;
      m["median_s"] = median(t.seconds);
      m["seconds"] = t.seconds;
      m["peak_rss_after_mib"] = t.peak_rss_after_mib;
      if (t.cached_points) {
        m["cached_points"] = t.cached_points;
        m["cached_mib"] = t.cached_mib;
      }
      j["modes"][t.name] = m;
    }
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "model " << source.name << " (" << fmt::model_kind_name(source.kind) << ", "
              << model.dtype_name() << ", " << params << " parameters), batch " << o.batch << " x "
              << o.seq << " tokens, " << at::get_num_threads() << " threads, median of " << o.runs
              << " interleaved runs after " << o.warmup << " warm-up\n";
    std::cout << "load " << load_seconds << " s, peak RSS after load " << rss_after_load << " MiB\n";
    for (const auto& t : modes) {
      std::cout << "  " << t.name << ": " << median(t.seconds) * 1000.0 << " ms  (" << t.what;
      if (t.cached_points) std::cout << "; " << t.cached_points << " points, " << t.cached_mib << " MiB";
      std::cout << "), peak RSS " << t.peak_rss_after_mib << " MiB\n";
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_args(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "forward_bench: error: " << e.what() << "\n";
    return 1;
  }
}
