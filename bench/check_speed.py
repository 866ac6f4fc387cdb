"""Compiler speed, measured (not a timed test): `circuit check` of all of stdlib/ + examples/,
and of a generated 10,000-line file, as medians of several runs of the real binary (process
start and model/tokenizer loading included). Appends a dated section to bench/RESULTS.md.

    .venv/bin/python bench/check_speed.py [--runs 11] [--bin build/circuit] [--no-write]
"""
import argparse
import datetime
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ten_thousand_lines() -> str:
    # The same shape as tests/compiler/front_end_test.cpp's LargeFile case: 2,500 circuits.
    out = ['model "induction-2l"\n']
    for i in range(2500):
        out.append(f"/// circuit {i}\ncircuit c{i} {{\n  head 0.{i % 4} -> head 1.0.k\n}}\n")
    return "".join(out)


def median_seconds(cmd, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{proc.stdout}{proc.stderr}")
    return statistics.median(times), min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("CIRCUIT_BIN", str(ROOT / "build" / "circuit")))
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.circuit"
        big.write_text(ten_thousand_lines())
        lines = big.read_text().count("\n")
        library = median_seconds([args.bin, "check", str(ROOT / "stdlib"), str(ROOT / "examples")], args.runs)
        large = median_seconds([args.bin, "check", str(big)], args.runs)

    load = os.getloadavg()
    section = [
        f"## {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC: `circuit check` speed",
        "",
        f"- Machine: {os.cpu_count()} logical cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; "
        f"wall time of the whole process (start, model and tokenizer loading included), median (min) of {args.runs} runs.",
        f"- stdlib/ + examples/ (checked against induction-2l and smollm2-135m, tokenizers included): "
        f"{library[0] * 1000:.0f} ms ({library[1] * 1000:.0f} ms); goal under 100 ms.",
        f"- a generated {lines:,}-line file (2,500 circuits on induction-2l): "
        f"{large[0] * 1000:.0f} ms ({large[1] * 1000:.0f} ms); goal under 1 s.",
        "",
    ]
    text = "\n".join(section)
    print(text)
    if not args.no_write:
        with open(ROOT / "bench" / "RESULTS.md", "a") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main()
