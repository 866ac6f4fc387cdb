// `circuit view RESULTS --export report.html`: writes one self-contained HTML report of a run:
// the embedded web app (webview/, built into the binary) with its JavaScript and CSS inlined and
// the run's results.json, circuit.json, source and tensors (base64 float32 with their shapes)
// inlined as JSON, so that it opens from disk in any browser with nothing installed.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include "command_registry.h"
#include "runtime/formats/dequantize.h"
#include "runtime/formats/format_error.h"
#include "runtime/formats/model_description.h"
#include "runtime/formats/model_source.h"
#include "runtime/formats/safetensors_reader.h"
#include "webview/embedded_assets.h"

namespace circuit::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A source file larger than this is left out of the report (a .circuit file is a few KiB).
constexpr std::uintmax_t kMaxSourceBytes = 1u << 20;

struct ViewOptions {
  std::string results;
  std::string export_path;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw formats::FormatError(path.string(), "cannot open the file");
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) throw formats::FormatError(path.string(), "cannot read the file");
  return text.str();
}

json read_json(const fs::path& path) {
  const std::string text = read_file(path);
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    // nlohmann's message starts "[json.exception.parse_error.101] parse error at line 1, ...".
    std::string what = e.what();
    const auto at = what.find("parse error");
    throw formats::FormatError(path.string(), "not valid JSON: " + (at == std::string::npos ? what : what.substr(at)));
  }
}

std::string base64(std::span<const std::uint8_t> bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    const std::uint32_t v = (bytes[i] << 16) | (rest == 2 ? bytes[i + 1] << 8 : 0);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// A tensor's elements as little-endian float32, whatever its stored dtype.
std::vector<float> as_float32(const formats::SafetensorsTensor& t) {
  using D = formats::SafetensorsDtype;
  std::vector<float> out(t.n_elements);
  const std::uint8_t* p = t.data.data();
  for (std::uint64_t i = 0; i < t.n_elements; ++i) {
    switch (t.dtype) {
      case D::F32: { float v; std::memcpy(&v, p + 4 * i, 4); out[i] = v; break; }
      case D::F64: { double v; std::memcpy(&v, p + 8 * i, 8); out[i] = static_cast<float>(v); break; }
      case D::F16: { std::uint16_t v; std::memcpy(&v, p + 2 * i, 2); out[i] = formats::fp16_to_float(v); break; }
      case D::BF16: { std::uint16_t v; std::memcpy(&v, p + 2 * i, 2); out[i] = formats::bf16_to_float(v); break; }
      case D::I64: { std::int64_t v; std::memcpy(&v, p + 8 * i, 8); out[i] = static_cast<float>(v); break; }
      case D::I32: { std::int32_t v; std::memcpy(&v, p + 4 * i, 4); out[i] = static_cast<float>(v); break; }
      case D::I8: out[i] = static_cast<float>(static_cast<std::int8_t>(p[i])); break;
      case D::U8:
      case D::Bool: out[i] = static_cast<float>(p[i]); break;
    }
  }
  return out;
}

json inline_tensors(const fs::path& path) {
  json list = json::array();
  if (!fs::exists(path)) return list;
  const auto file = formats::SafetensorsFile::open(path.string());
  for (const auto& t : file.tensors()) {
    const std::vector<float> values = as_float32(t);
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(values.data());
    list.push_back({{"name", t.name}, {"dtype", "F32"}, {"shape", t.shape},
                    {"data", base64({bytes, values.size() * sizeof(float)})}});
  }
  return list;
}

// The .circuit file the run came from: results.json names it relative to the workspace the run
// was started in, which is the results folder's grandparent (WORKSPACE/results/STEM/) or the
// current directory.
json inline_source(const json& results, const fs::path& results_dir) {
  if (!results.contains("source") || !results["source"].is_string()) return nullptr;
  const std::string name = results["source"].get<std::string>();
  std::error_code ec;
  for (const fs::path& base : {fs::absolute(results_dir, ec).parent_path().parent_path(), fs::current_path(ec)}) {
    const fs::path candidate = base / name;
    if (fs::is_regular_file(candidate, ec) && fs::file_size(candidate, ec) <= kMaxSourceBytes)
      return {{"path", name}, {"text", read_file(candidate)}};
  }
  return nullptr;
}

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm parts{};
  gmtime_r(&t, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

// The model tree (layers, heads and every hook point with its shape) of the model the run used,
// when this machine has a model of that name and shape; else null, and the report shows the
// layers and heads of circuit.json's shape without hook points. Reads headers only.
json model_tree_for(const json& results) {
  const json& model = results.value("model", json::object());
  const std::string name = model.is_object() ? model.value("name", "") : "";
  if (name.empty()) return nullptr;
  try {
    const auto source = formats::resolve_model(name, formats::models_folder(CIRCUIT_SOURCE_DIR));
    const auto& c = source.config;
    if (model.value("n_layers", c.n_layers) != c.n_layers || model.value("n_heads", c.n_heads) != c.n_heads) {
      std::cerr << "circuit view: note: the model '" << name << "' here has another shape than the run's; the report's model tree has no hook points\n";
      return nullptr;
    }
    const json& conditions = results.value("conditions", json::object());
    const std::string dtype = conditions.is_object() ? conditions.value("dtype", "float32") : "float32";
    return formats::model_tree_json(source, dtype);
  } catch (const std::exception& e) {
    std::cerr << "circuit view: note: the report's model tree has no hook points (" << e.what() << ")\n";
    return nullptr;
  }
}

json report_data(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw formats::FormatError(dir.string(), fs::exists(dir, ec) ? "not a folder (give the results folder of a run, e.g. results/induction)"
                                                                  : "no such folder");
  const fs::path results_path = dir / "results.json";
  if (!fs::exists(results_path, ec))
    throw formats::FormatError(dir.string(), "no results.json: not a results folder written by `circuit run`");
  json results = read_json(results_path);
  if (!results.is_object() || results.value("format", "") != "circuitry.results")
    throw formats::FormatError(results_path.string(), "not a circuitry.results document (\"format\" is missing or different)");
  json circuit = nullptr;
  if (fs::exists(dir / "circuit.json", ec)) {
    circuit = read_json(dir / "circuit.json");
    if (!circuit.is_object()) throw formats::FormatError((dir / "circuit.json").string(), "not a JSON object");
  }
  json model = model_tree_for(results);
  return {{"format", "circuitry.report"},
          {"version", 1},
          {"tool", std::string("circuit ") + CIRCUIT_VERSION},
          {"created", utc_now()},
          {"source", inline_source(results, dir)},
          {"results", std::move(results)},
          {"circuit", std::move(circuit)},
          {"model", std::move(model)},
          {"tensors", inline_tensors(dir / "tensors.safetensors")}};
}

// Text that sits inside <script> or <style> must not close it early: "</script" becomes
// "<\/script", which means the same in JavaScript strings, regular expressions and CSS, and "<!--"
// becomes "\x3C!--" (the page's own bundle holds neither; this keeps it so).
std::string escape_raw_text(std::string_view text, std::string_view tag) {
  std::string out;
  out.reserve(text.size());
  const std::string closing = "</" + std::string(tag);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<' && i + closing.size() <= text.size() &&
        std::equal(closing.begin(), closing.end(), text.begin() + i,
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); })) {
      out += "<\\/";
      ++i;  // skip the '/', copied as "\/"
      continue;
    }
    if (tag == "script" && text.substr(i, 4) == "<!--") {  // would open an HTML comment-like state inside <script>
      out += "\\x3C";  // the same '<' in JavaScript strings, templates and regular expressions
      continue;
    }
    out += text[i];
  }
  return out;
}

// JSON for a <script type="application/json">: '<' only ever appears inside JSON strings, where
// \u003c means the same, so no "</script>" or "<!--" can end the element early.
std::string json_for_script(const json& data) {
  const std::string text = data.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size() + text.size() / 64);
  for (char c : text) {
    if (c == '<') out += "\\u003c";
    else out += c;
  }
  return out;
}

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// The value of attribute `name` in one tag's text, or "".
std::string attribute(std::string_view tag, std::string_view name) {
  const std::string key = " " + std::string(name) + "=\"";
  const auto at = tag.find(key);
  if (at == std::string_view::npos) return "";
  const auto start = at + key.size();
  const auto end = tag.find('"', start);
  return end == std::string_view::npos ? "" : std::string(tag.substr(start, end - start));
}

const web::WebAsset& linked_asset(const std::string& url) {
  const web::WebAsset* asset = web::find_web_asset(url);
  if (!asset) throw std::runtime_error("the embedded index.html links '" + url + "', which is not embedded (rebuild circuit)");
  return *asset;
}

// index.html with its script and stylesheet links replaced by their inlined text, the report's
// data added before </body>, and a title naming the run.
std::string report_html(const json& data) {
  const web::WebAsset* index = web::find_web_asset("index.html");
  if (!index || !web::web_app_built())
    throw std::runtime_error("this circuit was built without the web app (it needs Node.js and npm at build time: run scripts/setup.sh, then rebuild)");
  const std::string_view page = index->data;
  std::string out;
  out.reserve(page.size() + 4096);
  std::size_t pos = 0;
  while (pos < page.size()) {
    const auto open = page.find('<', pos);
    if (open == std::string_view::npos) {
      out.append(page.substr(pos));
      break;
    }
    out.append(page.substr(pos, open - pos));
    const auto close = page.find('>', open);
    if (close == std::string_view::npos) throw std::runtime_error("the embedded index.html is not well formed");
    const std::string_view tag = page.substr(open, close + 1 - open);
    pos = close + 1;
    if (tag.starts_with("<script") && !attribute(tag, "src").empty()) {
      const std::string_view end_tag = "</script>";
      if (page.substr(pos, end_tag.size()) != end_tag) throw std::runtime_error("the embedded index.html has a script with content and a src");
      pos += end_tag.size();
      const std::string type = attribute(tag, "type");
      out += type.empty() ? "<script>" : "<script type=\"" + type + "\">";
      out += escape_raw_text(linked_asset(attribute(tag, "src")).data, "script");
      out += "</script>";
    } else if (tag.starts_with("<link") && attribute(tag, "rel") == "stylesheet") {
      out += "<style>";
      out += escape_raw_text(linked_asset(attribute(tag, "href")).data, "style");
      out += "</style>";
    } else if (tag == "<title>") {
      const auto end = page.find("</title>", pos);
      if (end == std::string_view::npos) throw std::runtime_error("the embedded index.html has an unclosed <title>");
      const json& results = data["results"];
      const std::string source = results.value("source", "");
      out += "<title>" + html_escape("Circuitry report: " + (source.empty() ? std::string("a run") : source)) + "</title>";
      pos = end + std::string_view("</title>").size();
    } else if (tag == "</body>") {
      out += "<script type=\"application/json\" id=\"circuit-report\">";
      out += json_for_script(data);
      out += "</script>\n";
      out += tag;
    } else {
      out += tag;
    }
  }
  if (out.find("id=\"circuit-report\"") == std::string::npos) throw std::runtime_error("the embedded index.html has no </body>");
  return out;
}

// Writes next to the target, then renames: a reader never sees half a report.
void write_atomically(const fs::path& path, const std::string& text) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw formats::FormatError(path.string(), "the folder " + dir.string() + " does not exist");
  const fs::path tmp = dir / ("." + path.filename().string() + ".tmp" + std::to_string(::getpid()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw formats::FormatError(path.string(), "cannot write in " + dir.string());
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) {
      fs::remove(tmp, ec);
      throw formats::FormatError(path.string(), "cannot write the file (disk full?)");
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw formats::FormatError(path.string(), "cannot replace the file: " + ec.message());
  }
}

void run_view(const ViewOptions& o) {
  fs::path dir = fs::path(o.results).lexically_normal();
  if (dir.filename().empty()) dir = dir.parent_path();  // "results/induction/"
  if (dir.filename() == "results.json") dir = dir.parent_path();
  if (dir.empty()) dir = ".";
  const json data = report_data(dir);
  const std::string html = report_html(data);
  write_atomically(o.export_path, html);
  std::cout << "wrote " << o.export_path << " (" << (html.size() + 1023) / 1024 << " KiB, "
            << data["tensors"].size() << " tensors): open it in a browser\n";
}

CommandRegistrar reg{75, "view", [](CLI::App& app) {
  auto opts = std::make_shared<ViewOptions>();
  auto* cmd = app.add_subcommand("view", "Export a run's results as one self-contained HTML report");
  cmd->add_option("RESULTS", opts->results, "a results folder written by `circuit run` (results/<stem>)")->required();
  cmd->add_option("--export", opts->export_path, "write the report to this .html file (opens from disk, nothing to install)")
      ->required();
  cmd->callback([opts] { run_view(*opts); });
}};

}  // namespace
}  // namespace circuit::cli
