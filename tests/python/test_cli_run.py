"""`circuit run` and `circuit test` end to end on the embedded model induction-2l: the summary,
the three result files (circuit.json valid against the schema and `circuit validate-doc`,
results.json, tensors.safetensors), claims and exit codes, bad inputs (one clear error, non-zero
exit), and Ctrl-C (exit 130, the previous complete results untouched)."""
import json
import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import find_circuit_binary

REPO = Path(__file__).resolve().parents[2]
RESULT_FILES = ("circuit.json", "results.json", "tensors.safetensors")


@pytest.fixture(scope="module")
def binary():
    """$CIRCUIT_BIN, else this area's build-cli/, else the shared finder; skipped when the
    binary has no `run` (built without libtorch or the compiler)."""
    path = os.environ.get("CIRCUIT_BIN")
    own = REPO / "build-cli" / "circuit"
    if not path and own.is_file():
        path = str(own)
    path = path or find_circuit_binary()
    if path is None:
        pytest.skip("the circuit binary is not built (set CIRCUIT_BIN)")
    if subprocess.run([path, "run", "--help"], capture_output=True).returncode != 0:
        pytest.skip(f"{path} has no `run` command (built without libtorch or the compiler)")
    return path


@pytest.fixture(scope="module")
def circuit(binary):
    def run(*args, cwd=None, timeout=120):
        return subprocess.run([binary, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                              timeout=timeout)
    return run


@pytest.fixture(scope="module")
def induction_run(circuit, tmp_path_factory):
    out = tmp_path_factory.mktemp("induction") / "out"
    proc = circuit("run", REPO / "examples" / "induction.circuit", "--out", out, "--threads", "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc, out


def write(path, text):
    path.write_text(text)
    return path


# A claim that holds and one that cannot (a log-probability is never positive).
REPEATS = """model "induction-2l"
task repeats {
  prompts: ["K5Tv(+g.Pm)cK5Tv(+g.Pm)", "j3GW4h1lIjz9j3GW4h1lIjz"]
  answers: ["c", "9"]
}
"""


def test_run_induction_prints_the_known_heads_and_a_passing_claim(induction_run):
    proc, _ = induction_run
    out = proc.stdout
    assert "head 0.0" in out, out           # the previous-token head
    assert "head 1." in out, out            # induction heads live in layer 1
    faithfulness = [l for l in out.splitlines() if "faithfulness(" in l]
    assert faithfulness and all(l.lstrip().startswith("PASS") for l in faithfulness), out
    assert "FAIL" not in out and "NOT RUN" not in out, out


def test_run_writes_valid_result_files(induction_run, circuit):
    jsonschema = pytest.importorskip("jsonschema")
    _, out = induction_run
    for name in RESULT_FILES:
        assert (out / name).is_file(), name
    assert not [p.name for p in out.iterdir() if p.name not in RESULT_FILES], "temporary files left"

    proc = circuit("validate-doc", out / "circuit.json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "circuit.json").read_text())
    schema = json.loads((REPO / "schema" / "circuit.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert doc["model"]["name"] == "induction-2l"
    assert len(doc["model"]["weights_sha256"]) == 64
    ids = {n["id"] for n in doc["nodes"]}
    assert "a0.h0" in ids and any(i.startswith("a1.") for i in ids), ids
    assert any(e["target"].startswith("a1.") and e.get("input") == "k" and e["source"] == "a0.h0"
               for e in doc["edges"]), doc["edges"]
    claims = {c["expression"]: c for c in doc["claims"]}
    faith = [c for e, c in claims.items() if e.startswith("faithfulness(")]
    assert faith and faith[0]["passed"] and faith[0]["measured"] >= 0.8
    assert faith[0]["conditions"]["model"] == "induction-2l"
    assert doc["provenance"]["source_sha256"] and doc["provenance"]["date"].endswith("Z")

    results = json.loads((out / "results.json").read_text())
    assert results["passed"] is True
    assert {e["name"] for e in results["experiments"]} >= {"prev_scores", "ind_scores"}
    prev = results["scores"]["prev_scores"]
    assert max(prev, key=prev.get) == "a0.h0", prev
    ind = results["scores"]["ind_scores"]
    assert max(ind, key=ind.get).startswith("a1."), ind

    from safetensors.numpy import load_file
    tensors = load_file(str(out / "tensors.safetensors"))
    experiments = {e["name"] for e in results["experiments"]}
    assert tensors and all(k.split("/")[0] in experiments for k in tensors), list(tensors)


def test_ablation_example_claims_pass(circuit, tmp_path):
    proc = circuit("run", REPO / "examples" / "ablation.circuit", "--out", tmp_path / "o", "--threads", "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    values = json.loads((tmp_path / "o" / "results.json").read_text())["values"]
    assert values["intact"] > values["halved"] > values["no_layer1"], values
    assert values["no_head_0_2"] > values["no_prev_head"], values
    assert proc.stdout.count("PASS") == 4, proc.stdout


def test_default_out_dir_is_results_stem_under_cwd(circuit, tmp_path):
    src = write(tmp_path / "tiny.circuit", REPEATS + "let lp = measure(repeats, metric: logprob)\n")
    proc = circuit("run", src, "--threads", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert all((tmp_path / "results" / "tiny" / n).is_file() for n in RESULT_FILES)


def test_test_command_exit_codes(circuit, tmp_path):
    good = write(tmp_path / "good.circuit", REPEATS + "expect measure(repeats, metric: logprob) > -2.0\n")
    (tmp_path / "sub").mkdir()
    bad = write(tmp_path / "sub" / "bad.circuit", REPEATS + "expect measure(repeats, metric: logprob) > 0.0\n")
    plain = write(tmp_path / "plain.circuit", REPEATS + "let lp = measure(repeats, metric: logprob)\n")

    ok = circuit("test", good, plain, "--threads", "1")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "PASS" in ok.stdout and "no claims" in ok.stdout, ok.stdout

    failing = circuit("test", bad, "--threads", "1")
    assert failing.returncode == 1, failing.stdout + failing.stderr
    line = next(l for l in failing.stdout.splitlines() if "FAIL " in l and "measure(" in l)
    assert "> 0" in line and "measured -" in line, line   # claimed vs measured

    folder = circuit("test", tmp_path, "--threads", "1")   # recursive: finds sub/bad.circuit
    assert folder.returncode == 1
    assert "bad.circuit" in folder.stdout and "good.circuit" in folder.stdout, folder.stdout


@pytest.mark.parametrize("body, code", [
    ("expect measure(repeats, metric: logprob, with: [zero(head 0.7)]) > -9.0\n", "E013"),  # no head 7
    ("expect measure(repeats, metric: logprob, with: [zero(mlp 0)]) > -9.0\n", "E017"),      # no MLPs
])
def test_claim_on_a_missing_component_is_one_clear_error(circuit, tmp_path, body, code):
    src = write(tmp_path / "missing.circuit", REPEATS + body)
    for command in ("run", "test"):
        proc = circuit(command, src, "--out", tmp_path / "o") if command == "run" else circuit(command, src)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert f"error[{code}]" in proc.stderr, proc.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("task, code", [
    ('task t {\n  prompts: []\n  answers: []\n}\n', None),                       # empty task
    ('task t {\n  prompts: ["abcabc"]\n  answers: ["ab"]\n}\n', "E042"),           # two tokens
])
def test_bad_tasks_fail_with_an_error(circuit, tmp_path, task, code):
    src = write(tmp_path / "t.circuit", 'model "induction-2l"\n' + task +
                "expect measure(t, metric: logprob) > -9.0\n")
    proc = circuit("run", src, "--out", tmp_path / "o")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "error" in proc.stderr and "Traceback" not in proc.stderr and "terminate" not in proc.stderr
    if code:
        assert f"error[{code}]" in proc.stderr, proc.stderr
    assert not (tmp_path / "o").exists()


def test_plan_over_the_memory_budget_is_one_line(circuit, tmp_path):
    src = write(tmp_path / "m.circuit", REPEATS + "let lp = measure(repeats, metric: logprob)\n")
    proc = circuit("run", src, "--out", tmp_path / "o", "--memory-budget", "1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("circuit: error:") and "budget" in lines[0], proc.stderr
    bad = circuit("run", src, "--memory-budget", "lots")
    assert bad.returncode == 1 and "--memory-budget" in bad.stderr


def test_ctrl_c_exits_130_and_keeps_the_previous_results(binary, circuit, tmp_path):
    out = tmp_path / "o"
    first = circuit("run", REPO / "examples" / "ablation.circuit", "--out", out, "--threads", "1")
    assert first.returncode == 0, first.stderr
    before = {n: (out / n).read_bytes() for n in RESULT_FILES}

    # A long run: many ablations of a large batch. stderr is a terminal, so the progress bar
    # shows when the executor has started; Ctrl-C goes in then.
    rows = ", ".join(f'"{chr(65 + i % 26)}q{i % 97:02d}x{i % 89:02d}zK{chr(65 + i % 26)}q{i % 97:02d}x{i % 89:02d}z"'
                     for i in range(256))
    answers = ", ".join('"K"' for _ in range(256))
    # About 100 forwards of 256 rows: seconds when left to finish, so Ctrl-C lands mid-run.
    lets = "".join(f"let m{i} = measure(big, metric: logprob, with: [scale(head {i // 4 % 2}.{i % 4}, "
                   f"factor: 0.{i + 1})])\n" for i in range(96))
    slow = write(tmp_path / "slow.circuit", f'model "induction-2l"\ntask big {{\n  prompts: [{rows}]\n'
                 f'  answers: [{answers}]\n}}\n' + lets)
    master, slave = pty.openpty()
    proc = subprocess.Popen([binary, "run", slow, "--out", out, "--threads", "1"], stdout=subprocess.PIPE,
                            stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    seen = b""
    deadline = time.time() + 60
    while time.time() < deadline and b"stage" not in seen and proc.poll() is None:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                seen += os.read(master, 4096)
            except OSError:
                break
    assert proc.poll() is None, "the run ended before it could be interrupted; make slow.circuit slower"
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    os.close(master)
    assert proc.returncode == 130
    after = {n: (out / n).read_bytes() for n in RESULT_FILES}
    assert after == before, "interrupted run changed the earlier results"
    assert sorted(p.name for p in out.iterdir()) == sorted(RESULT_FILES), "temporary files left"


def test_import_turns_a_run_document_into_circuit_source(induction_run, circuit, tmp_path):
    _, out = induction_run
    src = tmp_path / "found.circuit"
    proc = circuit("import", out / "circuit.json", "--to", "circuit", "-o", src)
    assert proc.returncode == 0, proc.stderr
    text = src.read_text()
    assert 'model "induction-2l"' in text and "circuit induction {" in text, text
    assert "head 0.0 -> head 1." in text and ".k" in text and "-> logits" in text, text
    assert "// expect faithfulness(" in text, text   # claims ride along as comments
    check = circuit("check", src)
    assert check.returncode == 0, check.stderr
