"""The circuit documents that `circuit import` writes (from an attribution graph, and a circuit
document normalized) validate against schema/circuit.schema.json, and the schema rejects
broken documents that the C++ reader also rejects. Needs the `jsonschema` package."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import find_circuit_binary

jsonschema = pytest.importorskip("jsonschema")

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "schema" / "circuit.schema.json").read_text())
DATA = REPO / "tests" / "cpp" / "interchange" / "data"


def circuit_binary():
    found = find_circuit_binary()
    if found is None:
        pytest.skip("the circuit binary is not built (set CIRCUIT_BIN)")
    return found


def run(*args):
    return subprocess.run([circuit_binary(), *map(str, args)], capture_output=True, text=True, timeout=60)


def validator():
    cls = jsonschema.validators.validator_for(SCHEMA)
    cls.check_schema(SCHEMA)
    assert cls is jsonschema.Draft202012Validator
    return cls(SCHEMA)


@pytest.mark.parametrize("source", ["small_attribution_graph.json", "induction_circuit.json"])
def test_written_documents_match_the_schema(tmp_path, source):
    out = tmp_path / "doc.json"
    proc = run("import", DATA / source, "-o", out)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    errors = sorted(validator().iter_errors(doc), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    assert run("validate-doc", out).returncode == 0


def test_export_then_import_still_matches_the_schema(tmp_path):
    graph = tmp_path / "graph.json"
    doc = tmp_path / "doc.json"
    assert run("export", DATA / "induction_circuit.json", "--to", "attribution-graph", "-o", graph).returncode == 0
    assert run("import", graph, "-o", doc).returncode == 0
    validator().validate(json.loads(doc.read_text()))


@pytest.mark.parametrize("edit, path", [
    (lambda d: d.update(version=2), ["version"]),
    (lambda d: d["nodes"][1].update(layer="0"), ["nodes", 1, "layer"]),
    (lambda d: d["nodes"][1].update(kind="head"), ["nodes", 1, "kind"]),
    (lambda d: d["edges"][0].pop("in_circuit"), ["edges", 0]),
    (lambda d: d["claims"][0].update(comparator="=>"), ["claims", 0, "comparator"]),
    (lambda d: d["model"].update(weights_sha256="ABC"), ["model", "weights_sha256"]),
    (lambda d: d.update(unknown=1), []),
])
def test_schema_and_reader_reject_the_same_broken_documents(tmp_path, edit, path):
    doc = json.loads((DATA / "induction_circuit.json").read_text())
    edit(doc)
    errors = list(validator().iter_errors(doc))
    assert errors and any(list(e.absolute_path) == path for e in errors), [str(e) for e in errors]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    proc = run("validate-doc", bad)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"circuit: error: {bad}: "), proc.stderr
    assert proc.stderr.count("\n") == 1


def test_failed_import_leaves_the_output_untouched(tmp_path):
    out = tmp_path / "out.json"
    out.write_text("previous contents")
    bad = tmp_path / "bad.json"
    bad.write_text('{"nodes": [], "links": [{"source": "a", "target": "b", "weight": 1}]}')
    proc = run("import", bad, "-o", out)
    assert proc.returncode == 1
    assert 'links[0].source: no node with node_id "a"' in proc.stderr
    assert out.read_text() == "previous contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "out.json"]
