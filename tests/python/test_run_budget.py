"""`circuit run` refuses a run whose results would outgrow --memory-budget before it runs
anything: a non-zero exit within seconds, one line with the numbers and what to change, no
results folder, and a process that never grew (its peak RSS stays far below what the plan asks).
On the embedded induction-2l, and on SmolLM2-135M when setup fetched it: attention patterns and
head outputs of 2,048 prompts of 500 tokens (about 555 GB and 70 GB)."""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import circuit_binary_with

REPO = Path(__file__).resolve().parents[2]
SMOLLM2 = REPO / "models" / "smollm2-135m" / "SmolLM2-135M-Instruct.Q4_1.gguf"
UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


@pytest.fixture(scope="module")
def binary():
    return circuit_binary_with("run")


# Runs the binary and prints its own peak RSS. A child inherits the peak of the process that
# forked it (ru_maxrss survives fork and exec), and pytest may have grown to gigabytes by now:
# so the binary is forked from this small, freshly started interpreter instead.
MEASURE = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss * 1024)
"""


def run_measured(binary, args, cwd):
    """(exit code, stderr, seconds, peak RSS in bytes) of one `circuit` process."""
    err = Path(cwd) / "stderr.txt"
    start = time.monotonic()
    with open(err, "w") as stderr:
        out = subprocess.run([sys.executable, "-c", MEASURE, binary, *map(str, args)], cwd=cwd,
                             stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, text=True,
                             check=True).stdout
    seconds = time.monotonic() - start
    code, rss = (int(x) for x in out.split())
    return code, err.read_text(), seconds, rss


def kept_bytes(message):
    """The bytes in "the run would keep 1.52 TiB (...)"."""
    found = re.search(r"the run would keep ([0-9.]+) (bytes|KiB|MiB|GiB|TiB)", message)
    assert found, message
    return float(found.group(1)) * UNITS[found.group(2)]


def refused(binary, tmp_path, source, *flags, within):
    src = tmp_path / "big.circuit"
    src.write_text(source)
    code, stderr, seconds, rss = run_measured(binary, ["run", src, *flags], tmp_path)
    lines = [l for l in stderr.splitlines() if l.strip()]
    assert code == 1, stderr
    assert len(lines) == 1 and lines[0].startswith("circuit: error:"), stderr
    message = lines[0]
    assert "memory budget" in message and "fewer prompts" in message and "--memory-budget" in message, message
    assert seconds < within, f"refused after {seconds:.1f} s"
    assert not (tmp_path / "results").exists(), "a refused run wrote results"
    return message, rss


def test_induction_2l_patterns_over_a_small_budget_are_refused_before_running(binary, tmp_path):
    source = ('model "induction-2l"\n'
              "task long { random_tokens: 32\n count: 4096\n seed: 1 }\n"
              "let patterns = attention(long, over: heads *)\n")
    message, rss = refused(binary, tmp_path, source, "--memory-budget", "64M", within=5)
    assert "over the 64 MiB memory budget" in message, message
    assert "'patterns' (4096 rows x 64 tokens: 2 saves)" in message, message
    # 2 layers x 4 heads x 64 x 64 x 4096 prompts as f32: 537 MB of patterns alone.
    needed = kept_bytes(message)
    assert needed >= 2 * 4 * 64 * 64 * 4096 * 4, message
    assert rss < needed / 2, f"peak RSS {rss / 2**20:.0f} MiB: the run grew before it was refused"


def test_induction_2l_within_the_budget_still_runs(binary, tmp_path):
    src = tmp_path / "small.circuit"
    src.write_text('model "induction-2l"\n'
                   "task short { random_tokens: 10\n count: 8\n seed: 1 }\n"
                   "let patterns = attention(short, over: heads *)\n")
    code, stderr, _, _ = run_measured(binary, ["run", src, "--memory-budget", "64M"], tmp_path)
    assert code == 0, stderr
    assert sorted(p.name for p in (tmp_path / "results" / "small").iterdir()) == [
        "circuit.json", "results.json", "tensors.safetensors"]
    assert [p.name for p in (tmp_path / "results").iterdir()] == ["small"], "temporary folders left"


SMOL_TASK = 'model "smollm2-135m"\ntask long { random_tokens: 251\n count: 2048\n seed: 3 }\n'


@pytest.mark.skipif(not SMOLLM2.is_file(), reason="SmolLM2-135M was not fetched (scripts/setup.sh)")
@pytest.mark.parametrize("let, least", [
    ("attention(long, over: heads *)", 30 * 9 * 501 * 501 * 2048 * 4),  # 555 GB of patterns
    ("cache(long, at: heads *)", 30 * 2048 * 501 * 9 * 64 * 4),         # 70.9 GB of head outputs
])
def test_smollm2_2048_prompts_of_500_tokens_are_refused_under_the_default_budget(binary, tmp_path, let, least):
    message, rss = refused(binary, tmp_path, SMOL_TASK + f"let kept = {let}\n", within=5)
    assert "over the 4 GiB memory budget" in message, message
    assert "'kept' (2048 rows x 501 tokens: 30 saves)" in message, message
    assert kept_bytes(message) >= least, message
    assert rss < 4 * 2**30, f"peak RSS {rss / 2**30:.1f} GiB"
