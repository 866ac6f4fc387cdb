"""`circuit run` commits its three result files as a set: killed (SIGKILL, through the test hook
CIRCUIT_TEST_KILL_AT_STEP) right after any step of the commit, it leaves the results folder
holding the complete earlier results or the complete new ones, and the next run leaves no
temporary folder beside it. On the embedded induction-2l."""
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import circuit_binary_with

RESULT_FILES = ["circuit.json", "results.json", "tensors.safetensors"]
STEPS = 9  # cli/run/results_commit.h: CommitStep::Done
SWITCHED = 6  # CommitStep::Switched: from here on the new set is in place

SOURCE = ('model "induction-2l"\n'
          "task repeats { random_tokens: 8\n count: 4\n seed: 2 }\n"
          "let patterns = attention(repeats, over: heads *)\n"
          "let lp = measure(repeats, metric: logprob)\n")


@pytest.fixture(scope="module")
def binary():
    return circuit_binary_with("run")


def run(binary, cwd, kill_at=None):
    env = {"CIRCUIT_TEST_KILL_AT_STEP": str(kill_at)} if kill_at else {}
    return subprocess.run([binary, "run", "tiny.circuit", "--threads", "1"], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})


def files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_run_killed_at_any_step_of_the_commit_leaves_the_old_or_the_new_set(binary, tmp_path):
    (tmp_path / "tiny.circuit").write_text(SOURCE)
    results = tmp_path / "results"
    first = run(binary, tmp_path)
    assert first.returncode == 0, first.stderr
    for step in range(1, STEPS + 1):
        before = files(results / "tiny")
        killed = run(binary, tmp_path, kill_at=step)
        assert killed.returncode == -signal.SIGKILL, (step, killed.returncode, killed.stderr)
        after = files(results / "tiny")
        assert sorted(after) == RESULT_FILES, (step, sorted(after))
        if step < SWITCHED:
            assert after == before, f"step {step}: the earlier results changed"
        else:
            # A whole new set: it differs from the old one (its run took other seconds) and reads back.
            assert after["results.json"] != before["results.json"], f"step {step}: still the old results"
            assert json.loads(after["results.json"])["format"] == "circuitry.results"
            json.loads(after["circuit.json"])
        again = run(binary, tmp_path)
        assert again.returncode == 0, again.stderr
        assert [p.name for p in results.iterdir()] == ["tiny"], f"step {step}: temporary folders left"
