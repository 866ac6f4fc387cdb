"""What `circuit serve` adds to a run: the same .circuit file run N times by `circuit run` and N
times through the server's API (POST /api/runs, then GET /api/runs/ID until it ends), alternating,
on the same machine and thread count (the run's state is polled 4 times a second, as a
browser would be told over the WebSocket). Reports the medians of the execution time each writes in
results.json (`seconds`) and of the wall time (the server's from the POST to the run's end; the
command's including its model load), and the keystroke-to-diagnostics time of POST /api/compile.

Usage: .venv/bin/python bench/serve_overhead.py FILE [--runs 5] [--threads 2] [--bin build/circuit]
Standard library only. Prints a Markdown section for bench/RESULTS.md.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def request(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as answer:
        return json.loads(answer.read())


def start_server(binary, workspace, threads):
    proc = subprocess.Popen([binary, "serve", str(workspace), "--port", "0", "--threads", str(threads)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 300
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        found = re.search(r"open (http://127\.0\.0\.1:\d+)/", line)
        if found:
            return proc, found.group(1)
    proc.kill()
    raise SystemExit("circuit serve did not print its address")


def served_run(base, path):
    start = time.perf_counter()
    run = request(base, "POST", "/api/runs", {"path": path})["run"]
    while run["state"] in ("queued", "running"):
        # Poll gently: on 2 cores, a request every few milliseconds would take CPU from the run.
        time.sleep(0.25)
        run = request(base, "GET", f"/api/runs/{run['id']}")["run"]
    wall = time.perf_counter() - start
    if run["state"] != "done":
        raise SystemExit(f"served run ended {run['state']}: {run.get('error')}")
    results = request(base, "GET", f"/api/runs/{run['id']}/results")
    return results["seconds"], wall


def command_run(binary, file, out, threads):
    start = time.perf_counter()
    subprocess.run([binary, "run", str(file), "--out", str(out), "--threads", str(threads)],
                   check=True, capture_output=True)
    wall = time.perf_counter() - start
    return json.loads((out / "results.json").read_text())["seconds"], wall


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bin", default=str(REPO / "build" / "circuit"))
    args = parser.parse_args()
    source = Path(args.file).resolve()

    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "ws"
        workspace.mkdir()
        shutil.copy(source, workspace / source.name)
        # `use` finds sibling files first, then the stdlib: copy the siblings the file may use.
        for sibling in source.parent.glob("*.circuit"):
            if not (workspace / sibling.name).exists():
                shutil.copy(sibling, workspace / sibling.name)
        server, base = start_server(args.bin, workspace, args.threads)
        try:
            text = source.read_text()
            compile_ms = []
            for _ in range(20):
                start = time.perf_counter()
                request(base, "POST", "/api/compile", {"path": source.name, "text": text})
                compile_ms.append((time.perf_counter() - start) * 1000)
            served, command = [], []
            for i in range(args.runs):
                command.append(command_run(args.bin, workspace / source.name, Path(tmp) / f"out{i}", args.threads))
                served.append(served_run(base, source.name))
        finally:
            server.terminate()
            server.wait(timeout=60)

    med = lambda xs: statistics.median(xs)
    exec_cmd, exec_srv = med([c[0] for c in command]), med([s[0] for s in served])
    wall_cmd, wall_srv = med([c[1] for c in command]), med([s[1] for s in served])
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()
    print(f"## {now}: `circuit serve` overhead, {source.relative_to(REPO) if source.is_relative_to(REPO) else source.name}\n")
    print(f"- Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical cores, "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at the end; {args.threads} threads; "
          f"{args.runs} runs each, alternating, medians.")
    print(f"- Execution (results.json `seconds`): `circuit run` {exec_cmd:.3f} s, served {exec_srv:.3f} s: "
          f"**{exec_srv / exec_cmd:.3f}x**.")
    print(f"- Wall: `circuit run` {wall_cmd:.3f} s (with its model load), served {wall_srv:.3f} s "
          f"(POST to done; the model stays loaded).")
    print(f"- POST /api/compile round trip (the editor's diagnostics): median {med(compile_ms):.1f} ms "
          f"over 20, max {max(compile_ms):.1f} ms.")


if __name__ == "__main__":
    main()
