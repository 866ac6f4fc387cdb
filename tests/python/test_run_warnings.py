"""W050 reaches the user of `circuit run` and `circuit test`: an experiment that lowering
leaves out for good (a patch_sweep on a task without corrupt prompts) is named with its
file:line:col and reason on stderr, even when nothing else is wrong with the file (it used
to be dropped silently by `circuit test` when no claim was left unmeasured)."""
import subprocess

import pytest

from conftest import circuit_binary_with

SWEEP_WITHOUT_CORRUPT = """model "induction-2l"
task rep {
  random_tokens: 3
  count: 2
  seed: 0
}
let effects = patch_sweep(rep, over: heads *, metric: logprob)
let prev = previous_token_score(rep)
"""
W050 = ("sweep.circuit:7:15: warning[W050]: 'patch_sweep(rep, over: heads *, metric: logprob)' is not in "
        "the hook plan: activation patching needs a task with corrupt prompts")


@pytest.fixture(scope="module")
def binary():
    return circuit_binary_with("run")


@pytest.mark.parametrize("command", ["run", "test"])
def test_a_dropped_sweep_is_reported(binary, tmp_path, command):
    (tmp_path / "sweep.circuit").write_text(SWEEP_WITHOUT_CORRUPT)
    args = [binary, command, "sweep.circuit"] + (["--out", "out"] if command == "run" else [])
    proc = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert W050 in proc.stderr, proc.stderr
    assert proc.stderr.count("warning[W050]") == 1, proc.stderr
