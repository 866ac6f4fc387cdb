"""`circuit view RESULTS --export report.html`: the report is one self-contained HTML file (no
src= or href= to anything but data: or inline), it holds the run's documents and tensors (the
graph's nodes and edges, every tensor as base64 float32 with its shape), and bad input (a
missing folder, corrupt files, an unwritable target) is one line on stderr, a non-zero exit and
no file written."""
import base64
import json
import re
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import REPO, circuit_binary_with


@pytest.fixture(scope="module")
def binary():
    path = circuit_binary_with("view")
    return path


def circuit(binary, *args, cwd=None):
    return subprocess.run([binary, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=60)


def safetensors_bytes(tensors):
    """A .safetensors file of {name: (dtype, shape, raw little-endian bytes)}."""
    header, offset, blobs = {"__metadata__": {"format": "circuitry.results"}}, 0, []
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def f32(values):
    return struct.pack(f"<{len(values)}f", *values)


# A small run folder shaped like what `circuit run examples/induction.circuit` writes.
RESULTS = {
    "format": "circuitry.results", "version": 1, "source": "examples/induction.circuit",
    "model": {"name": "induction-2l", "family": "attn-only", "n_layers": 2, "n_heads": 4},
    "conditions": {"device": "cpu", "dtype": "float32"}, "seconds": 0.1, "forwards": 1, "passed": True,
    "experiments": [
        {"name": "prev_scores", "kind": "previous_token_score", "stage": 1,
         "analyses": [{"name": "prev_scores", "kind": "previous_token_score",
                       "nodes": {"a0.h0": 0.74, "a1.h2": 0.01}, "tensors": {"scores": [2, 4]}}]},
        {"name": "patterns", "kind": "attention", "stage": 1,
         "passes": [{"name": "patterns", "metrics": [],
                     "saves": [{"hook": "blocks.1.attn.hook_pattern", "shape": [2, 4, 3, 3]}]}]},
    ],
    "scores": {"prev_scores": {"a0.h0": 0.74, "a1.h2": 0.01}},
    "claims": [{"name": "expect.31", "expression": "count(prev_heads)", "comparator": ">=", "threshold": 1.0,
                "measured": 1.0, "passed": True, "location": "examples/induction.circuit:31:1"}],
    "circuits": {},
}
CIRCUIT = {
    "format": "circuitry.circuit", "version": 1, "name": "induction",
    "model": {"name": "induction-2l", "family": "attn-only",
              "shape": {"n_layers": 2, "n_heads": 4, "d_model": 64, "d_head": 16}},
    "nodes": [{"id": "input", "kind": "input"},
              {"id": "a0.h0", "kind": "attention", "layer": 0, "head": 0, "score": 0.74},
              {"id": "a1.h0", "kind": "attention", "layer": 1, "head": 0, "score": 0.57},
              {"id": "logits", "kind": "logits"}],
    "edges": [{"id": "a0.h0->a1.h0<k>", "source": "a0.h0", "target": "a1.h0", "input": "k", "in_circuit": True},
              {"id": "a1.h0->logits", "source": "a1.h0", "target": "logits", "in_circuit": True}],
}
PATTERN = [((i * 7) % 11) / 10.0 for i in range(2 * 4 * 3 * 3)]
SCORES = [0.74, 0.02, 0.03, 0.05, 0.03, 0.03, 0.01, 0.03]
HALF = [1.5, -2.0, 0.25]


@pytest.fixture
def run_folder(tmp_path):
    """WORKSPACE/results/induction with results.json, circuit.json, tensors.safetensors and the
    source file the run came from at WORKSPACE/examples/induction.circuit."""
    folder = tmp_path / "results" / "induction"
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps(RESULTS))
    (folder / "circuit.json").write_text(json.dumps(CIRCUIT))
    (folder / "tensors.safetensors").write_bytes(safetensors_bytes({
        "patterns/blocks.1.attn.hook_pattern": ("F32", [2, 4, 3, 3], f32(PATTERN)),
        "prev_scores/scores": ("F32", [2, 4], f32(SCORES)),
        "half/values": ("F16", [3], struct.pack("<3e", *HALF)),
    }))
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "induction.circuit").write_text('model "induction-2l"\n')
    return folder


class Page(HTMLParser):
    """Every tag with its attributes, and the text of each <script> and <style>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.scripts, self.styles, self._in = [], [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in = (tag, dict(attrs), [])

    def handle_data(self, data):
        if self._in:
            self._in[2].append(data)

    def handle_endtag(self, tag):
        if self._in and tag == self._in[0]:
            kind, attrs, parts = self._in
            (self.scripts if kind == "script" else self.styles).append((attrs, "".join(parts)))
            self._in = None


def export(binary, folder, out, cwd=None):
    proc = circuit(binary, "view", folder, "--export", out, cwd=cwd)
    if proc.returncode != 0 and "without the web app" in proc.stderr:
        pytest.skip("this circuit was built without Node.js: no embedded web app")
    return proc


def read_report(path):
    page = Page()
    page.feed(Path(path).read_text())
    data = [text for attrs, text in page.scripts if attrs.get("id") == "circuit-report"]
    assert len(data) == 1, "exactly one inlined report"
    return page, json.loads(data[0])


def test_export_is_self_contained(binary, run_folder, tmp_path):
    out = tmp_path / "report.html"
    proc = export(binary, run_folder, out)
    assert proc.returncode == 0, proc.stderr
    assert "report.html" in proc.stdout
    page, _ = read_report(out)
    for tag, attrs in page.tags:
        for name in ("src", "href"):
            if name in attrs:
                assert attrs[name].startswith("data:"), f"<{tag} {name}={attrs[name]!r}> is not inline"
    modules = [text for attrs, text in page.scripts if attrs.get("type") == "module"]
    assert len(modules) == 1 and len(modules[0]) > 10_000, "the app's bundle is inlined"
    assert len(page.styles) == 1 and len(page.styles[0][1]) > 1_000, "the app's stylesheet is inlined"
    assert "</script" not in modules[0].lower()
    assert "<title>Circuitry report: examples/induction.circuit</title>" in out.read_text()


def test_report_holds_the_runs_documents_graph_and_tensors(binary, run_folder, tmp_path):
    out = tmp_path / "report.html"
    assert export(binary, run_folder, out).returncode == 0
    _, data = read_report(out)
    assert data["format"] == "circuitry.report"
    assert data["results"] == RESULTS
    assert data["circuit"] == CIRCUIT
    assert {e["id"] for e in data["circuit"]["edges"]} == {"a0.h0->a1.h0<k>", "a1.h0->logits"}
    assert data["source"] == {"path": "examples/induction.circuit", "text": 'model "induction-2l"\n'}
    tensors = {t["name"]: t for t in data["tensors"]}
    assert set(tensors) == {"patterns/blocks.1.attn.hook_pattern", "prev_scores/scores", "half/values"}
    for name, shape, values in [("patterns/blocks.1.attn.hook_pattern", [2, 4, 3, 3], PATTERN),
                                ("prev_scores/scores", [2, 4], SCORES), ("half/values", [3], HALF)]:
        t = tensors[name]
        assert t["dtype"] == "F32" and t["shape"] == shape
        raw = base64.b64decode(t["data"], validate=True)
        assert list(struct.unpack(f"<{len(values)}f", raw)) == pytest.approx(values, abs=1e-6)


def test_report_describes_the_model_with_its_hook_points(binary, run_folder, tmp_path):
    """The run's model is on this machine (the embedded induction-2l): the report carries its
    tree, every hook point with its shape, for the model view of a colleague who has no model."""
    out = tmp_path / "report.html"
    assert export(binary, run_folder, out).returncode == 0
    _, data = read_report(out)
    model = data["model"]
    assert (model["name"], model["n_layers"], model["n_heads"], model["d_head"]) == ("induction-2l", 2, 4, 16)
    hooks = {h["name"]: h for h in model["hook_points"]}
    assert hooks["blocks.1.attn.hook_pattern"]["shape"] == ["batch", 4, "q_pos", "k_pos"]
    assert hooks["blocks.0.hook_resid_post"]["shape"] == ["batch", "pos", 64]


def test_a_model_not_on_this_machine_leaves_the_tree_out(binary, run_folder, tmp_path):
    unknown = dict(RESULTS, model=dict(RESULTS["model"], name="no-such-model"))
    (run_folder / "results.json").write_text(json.dumps(unknown))
    out = tmp_path / "report.html"
    proc = export(binary, run_folder, out)
    assert proc.returncode == 0, proc.stderr
    assert "no-such-model" in proc.stderr and "hook points" in proc.stderr
    _, data = read_report(out)
    assert data["model"] is None


def test_text_that_would_close_a_script_is_escaped(binary, run_folder, tmp_path):
    hostile = dict(RESULTS, source="</script><script>alert(1)</script><!--")
    (run_folder / "results.json").write_text(json.dumps(hostile))
    out = tmp_path / "report.html"
    assert export(binary, run_folder, out).returncode == 0
    _, data = read_report(out)
    assert data["results"]["source"] == hostile["source"]
    assert "<script>alert" not in out.read_text()


def test_a_run_without_circuit_or_tensors_still_exports(binary, run_folder, tmp_path):
    (run_folder / "circuit.json").unlink()
    (run_folder / "tensors.safetensors").unlink()
    out = tmp_path / "report.html"
    assert export(binary, run_folder, out).returncode == 0
    _, data = read_report(out)
    assert data["circuit"] is None and data["tensors"] == []


def broken(folder, what):
    if what == "missing folder":
        return folder.parent / "nope", "no such folder"
    if what == "no results.json":
        (folder / "results.json").unlink()
        return folder, "no results.json"
    if what == "results.json not JSON":
        (folder / "results.json").write_text('{"format": "circuitry.results", ')
        return folder, "results.json: not valid JSON"
    if what == "results.json of another format":
        (folder / "results.json").write_text('{"format": "something.else"}')
        return folder, "not a circuitry.results document"
    if what == "circuit.json not JSON":
        (folder / "circuit.json").write_text("[1, 2")
        return folder, "circuit.json: not valid JSON"
    if what == "truncated tensors":
        path = folder / "tensors.safetensors"
        path.write_bytes(path.read_bytes()[:100])
        return folder, "tensors.safetensors"
    raise AssertionError(what)


@pytest.mark.parametrize("what", ["missing folder", "no results.json", "results.json not JSON",
                                  "results.json of another format", "circuit.json not JSON", "truncated tensors"])
def test_bad_results_folder_is_one_line_and_writes_nothing(binary, run_folder, tmp_path, what):
    folder, expected = broken(run_folder, what)
    out = tmp_path / "report.html"
    out.write_text("the previous report")
    proc = export(binary, folder, out)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("circuit: error: "), proc.stderr
    assert expected in lines[0]
    assert out.read_text() == "the previous report", "the old report is left as it was"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report.html")] == []


def test_export_into_a_missing_folder_is_an_error(binary, run_folder, tmp_path):
    proc = export(binary, run_folder, tmp_path / "no" / "such" / "report.html")
    assert proc.returncode != 0
    assert "does not exist" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_export_of_a_real_induction_run(binary, tmp_path):
    """With the runtime built: the induction example's own results export, and the report holds
    its heads' graph and the saved attention patterns."""
    commands = circuit(binary, "--help").stdout
    if not re.search(r"^\s+run\s", commands, re.MULTILINE):
        pytest.skip("this circuit has no `run` (built without libtorch)")
    out_dir = tmp_path / "induction"
    proc = circuit(binary, "run", REPO / "examples" / "induction.circuit", "--out", out_dir, "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    report = tmp_path / "report.html"
    assert export(binary, out_dir, report).returncode == 0
    _, data = read_report(report)
    node_ids = {n["id"] for n in data["circuit"]["nodes"]}
    assert {"a0.h0", "a1.h0"} <= node_ids
    shapes = {t["name"]: t["shape"] for t in data["tensors"]}
    assert shapes["patterns/blocks.1.attn.hook_pattern"][1] == 4
