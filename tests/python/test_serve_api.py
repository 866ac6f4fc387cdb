"""`circuit serve` end to end over HTTP and WebSocket (docs/server-api.md), on a temporary copy
of a workspace holding examples/induction.circuit and the embedded model induction-2l: each
endpoint's happy path; malformed JSON, an oversized body, `..` and `%2e%2e` paths, an unknown
run; a run to completion with progress and done events on the WebSocket, a cancelled run, a
client that vanishes mid-stream; the access token; nothing in the workspace lost or half
written; a clean Ctrl-C. The WebSocket client is a few lines over the socket module."""
import base64
import hashlib
import http.client
import json
import math
import os
import re
import select
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

from conftest import circuit_binary_with

REPO = Path(__file__).resolve().parents[2]
INDUCTION = (REPO / "examples" / "induction.circuit").read_text()


@pytest.fixture(scope="module")
def binary():
    path = circuit_binary_with("serve")
    return path


class Server:
    """A `circuit serve` process on a free port; `address` is the line it printed to open."""

    def __init__(self, binary, workspace, *args):
        self.proc = subprocess.Popen([binary, "serve", str(workspace), "--port", "0", "--threads", "1", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.output = ""
        deadline = time.time() + 30
        fd = self.proc.stdout.fileno()
        while "Ctrl-C to stop" not in self.output:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.time()))
            chunk = os.read(fd, 4096).decode() if ready else ""
            if not chunk:
                self.proc.kill()
                raise AssertionError("circuit serve did not start: " + self.output + self.proc.stderr.read())
            self.output += chunk
        self.address = re.search(r"open (http://\S+)", self.output).group(1)
        self.port = int(re.search(r":(\d+)/", self.address).group(1))

    def request(self, method, path, body=None, headers=None):
        """(status, headers, body bytes); `body` a dict is sent as JSON, bytes/str as they are,
        declared `application/json` (as the server requires) unless `headers` say otherwise."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        if isinstance(body, dict):
            body = json.dumps(body)
        headers = dict(headers or {})
        if body is not None and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, dict(response.getheaders()), data

    def json(self, method, path, body=None, headers=None, status=200):
        got, _, data = self.request(method, path, body, headers)
        assert got == status, f"{method} {path}: {got} {data!r}"
        return json.loads(data)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise


class WebSocket:
    """A minimal RFC 6455 client: text frames, masked as a client must."""

    def __init__(self, port, path="/api/events"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            assert chunk, "connection closed during the handshake"
            head += chunk
        self.status = int(head.split(b" ")[1])
        if self.status == 101:
            accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
            assert accept in head

    def _read_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            assert chunk, "connection closed"
            data += chunk
        return data

    def receive(self):
        """The next text message, parsed; server pings are answered on the way."""
        while True:
            first, second = self._read_exact(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read_exact(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read_exact(8))[0]
            payload = self._read_exact(length)
            if opcode == 0x9:
                self._send(0xA, payload)
            elif opcode == 0x8:
                raise ConnectionError("the server closed the stream")
            elif opcode == 0x1:
                return json.loads(payload)

    def _send(self, opcode, payload):
        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        n = len(payload)
        header += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send(self, message):
        self._send(0x1, json.dumps(message).encode())

    def run_events(self, run_id, until=("done", "failed", "cancelled")):
        """Every `run` event of `run_id` until its state is in `until`."""
        events = []
        while True:
            message = self.receive()
            if message["type"] == "run" and message["run"]["id"] == run_id:
                events.append(message["run"])
                if message["run"]["state"] in until:
                    return events

    def close(self):
        self.sock.close()


def snapshot(root):
    """Every file under the workspace with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("workspace")
    (root / "examples").mkdir()
    (root / "examples" / "induction.circuit").write_text(INDUCTION)
    (root / "notes.txt").write_text("not a circuit\n")
    return root


@pytest.fixture(scope="module")
def server(binary, workspace):
    s = Server(binary, workspace)
    yield s
    s.stop()


def test_session_files_and_model(server, workspace):
    assert server.address.startswith("http://127.0.0.1:") and "token" not in server.address
    session = server.json("GET", "/api/session")
    assert session["workspace"] == str(workspace.resolve())
    assert session["model"]["name"] == "induction-2l"
    assert (session["model"]["n_layers"], session["model"]["n_heads"], session["model"]["d_model"]) == (2, 4, 64)
    assert [f["path"] for f in session["files"]] == ["examples/induction.circuit"]
    assert server.json("GET", "/api/files")["files"] == session["files"]
    assert server.json("GET", "/api/files/examples/induction.circuit")["text"] == INDUCTION
    tree = server.json("GET", "/api/model")
    assert tree["parameters"] > 0 and tree["dtype"] == "float32"
    pattern = next(h for h in tree["hook_points"] if h["name"] == "blocks.1.attn.hook_pattern")
    assert pattern["layer"] == 1 and pattern["shape"] == ["batch", 4, "q_pos", "k_pos"]
    status, headers, page = server.request("GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html") and page


def test_compile_and_save(server, workspace):
    started = time.perf_counter()
    report = server.json("POST", "/api/compile", {"path": "examples/induction.circuit", "text": INDUCTION})
    elapsed = time.perf_counter() - started
    assert report["diagnostics"] == [] and elapsed < 1.0, (report, elapsed)
    broken = INDUCTION.replace("previous_token_score(repeated_tokens)", "previous_token_scroe(repeated_tokens)")
    report = server.json("POST", "/api/compile", {"path": "examples/induction.circuit", "text": broken})
    error = report["diagnostics"][0]
    line = broken.splitlines().index(next(l for l in broken.splitlines() if "scroe" in l)) + 1
    assert (error["file"], error["line"], error["severity"]) == ("examples/induction.circuit", line, "error")
    assert error["end_line"] == line and error["end_col"] > error["col"] and error["message"]
    assert (workspace / "examples" / "induction.circuit").read_text() == INDUCTION, "compile must not save"

    saved = server.json("PUT", "/api/files/drafts/mine.circuit", {"text": broken})
    assert saved["path"] == "drafts/mine.circuit" and saved["diagnostics"][0]["line"] == line
    assert (workspace / "drafts" / "mine.circuit").read_text() == broken
    assert server.json("GET", "/api/files/drafts/mine.circuit")["text"] == broken


@pytest.mark.parametrize("method,path,body,status", [
    ("PUT", "/api/files/examples/induction.circuit", "{not json", 400),
    ("POST", "/api/compile", "[1, 2]", 400),
    ("POST", "/api/runs", '{"path": 3}', 400),
    ("GET", "/api/files/../outside.circuit", None, 400),
    ("GET", "/api/files/%2e%2e/outside.circuit", None, 400),
    ("PUT", "/api/files/%2e%2e%2foutside.circuit", '{"text": "x"}', 400),
    ("GET", "/api/files/examples/%2E%2E/%2E%2E/etc/passwd.circuit", None, 400),
    ("GET", "/api/files/missing.circuit", None, 404),
    ("GET", "/api/runs/r999", None, 404),
    ("GET", "/api/runs/r999/results", None, 404),
    ("POST", "/api/runs/r999/cancel", None, 404),
    ("GET", "/api/runs/saved:nothing/tensors", None, 404),
    ("GET", "/api/nothing", None, 404),
    ("DELETE", "/api/files/examples/induction.circuit", None, 405),
])
def test_bad_requests_get_one_line_errors(server, workspace, method, path, body, status):
    got, headers, data = server.request(method, path, body)
    assert got == status, data
    assert headers["Content-Type"] == "application/json"
    assert set(json.loads(data)) == {"error"} and b"\n" not in data
    assert not (workspace.parent / "outside.circuit").exists()
    assert (workspace / "examples" / "induction.circuit").read_text() == INDUCTION


def test_oversized_body_is_413_and_the_server_goes_on(server):
    status, _, data = server.request("PUT", "/api/files/big.circuit",
                                     json.dumps({"text": "x" * (3 << 19)}))
    assert status == 413 and "error" in json.loads(data)
    # Headers alone announcing a huge body are refused before it is sent.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"PUT /api/files/big.circuit HTTP/1.1\r\nHost: x\r\nContent-Length: 900000000\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 413")
    assert server.json("GET", "/api/files")["files"]


def test_run_to_completion_with_progress_and_done_events(server, workspace):
    ws = WebSocket(server.port)
    assert ws.status == 101
    hello = ws.receive()
    assert hello["type"] == "hello" and hello["session"]["model"]["name"] == "induction-2l"
    ws.send({"type": "ping"})
    assert ws.receive() == {"type": "pong"}

    run = server.json("POST", "/api/runs", {"path": "examples/induction.circuit"}, status=201)["run"]
    assert run["state"] == "queued" and run["path"] == "examples/induction.circuit"
    events = ws.run_events(run["id"])
    ws.close()
    states = [e["state"] for e in events]
    assert states[0] in ("queued", "running") and states[-1] == "done", states
    assert any(e["state"] == "running" and e["progress"]["total"] > 0 for e in events), events
    done = events[-1]
    assert done["results"] == "results/induction" and done["passed"] is True and done["seconds"] > 0

    assert server.json("GET", f"/api/runs/{run['id']}")["run"]["state"] == "done"
    results = server.json("GET", f"/api/runs/{run['id']}/results")
    assert results["format"] == "circuitry.results" and results["passed"] is True
    status, headers, circuit = server.request("GET", f"/api/runs/{run['id']}/circuit")
    assert status == 200 and "attachment" in headers["Content-Disposition"] and json.loads(circuit)
    tensors = server.json("GET", f"/api/runs/{run['id']}/tensors")["tensors"]
    pattern = next(t for t in tensors if t["name"] == "patterns/blocks.1.attn.hook_pattern")
    status, headers, data = server.request("GET", f"/api/runs/{run['id']}/tensors/patterns%2Fblocks.1.attn.hook_pattern")
    shape = [int(x) for x in headers["X-Shape"].split(",")]
    assert status == 200 and shape == pattern["shape"] and len(data) == 4 * math.prod(shape)
    values = struct.unpack(f"<{math.prod(shape[1:])}f", data[:4 * math.prod(shape[1:])])
    assert all(0.0 <= v <= 1.0 + 1e-6 for v in values)  # attention probabilities
    status, headers, rows = server.request("GET", f"/api/runs/{run['id']}/tensors/patterns%2Fblocks.1.attn.hook_pattern?rows=0..1")
    assert headers["X-Shape"] == ",".join(map(str, [1, *shape[1:]])) and rows == data[:len(rows)]
    # The results on disk are a run too, as `circuit run` left them.
    runs = server.json("GET", "/api/runs")["runs"]
    assert [r["id"] for r in runs][-1] == "saved:induction"
    assert sorted(p.name for p in (workspace / "results" / "induction").iterdir()) == \
        ["circuit.json", "results.json", "tensors.safetensors"]
    # A finished run cannot be cancelled.
    assert server.request("POST", f"/api/runs/{run['id']}/cancel")[0] == 409


def test_cancelled_runs(server, workspace):
    before = snapshot(workspace / "results")
    ws = WebSocket(server.port)
    ws.receive()
    first = server.json("POST", "/api/runs", {"path": "examples/induction.circuit"}, status=201)["run"]
    second = server.json("POST", "/api/runs", {"path": "examples/induction.circuit"}, status=201)["run"]
    # The second waits behind the first: cancelled at once, it never runs.
    assert server.json("POST", f"/api/runs/{second['id']}/cancel")["run"]["state"] == "cancelled"
    ws.run_events(first["id"], until=("running",))
    status, _, data = server.request("POST", f"/api/runs/{first['id']}/cancel")
    final = ws.run_events(first["id"])[-1]
    ws.close()
    if status == 200:  # caught while running: it stops and writes nothing
        assert final["state"] == "cancelled"
        assert snapshot(workspace / "results") == before
    else:  # it finished first
        assert status == 409 and final["state"] == "done"
    assert server.request("POST", f"/api/runs/{second['id']}/cancel")[0] == 409
    assert server.json("GET", f"/api/runs/{second['id']}")["run"]["started"] is None


def test_a_client_that_vanishes_mid_stream_changes_nothing(server):
    ws = WebSocket(server.port)
    ws.receive()
    run = server.json("POST", "/api/runs", {"path": "examples/induction.circuit"}, status=201)["run"]
    ws.run_events(run["id"], until=("running",))
    ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ws.close()  # a reset, not a goodbye
    silent = WebSocket(server.port)  # and one that never reads at all
    watcher = WebSocket(server.port)
    watcher.receive()
    assert watcher.run_events(run["id"])[-1]["state"] == "done"
    watcher.close()
    silent.close()
    assert server.json("GET", "/api/session")["model"]["name"] == "induction-2l"


def test_post_runs_saves_the_text_first(server, workspace):
    # In its own folder: `use "induction.circuit"` looks beside the file first, then in stdlib/.
    text = INDUCTION.replace("> 0.4", ">= 0.4")
    ws = WebSocket(server.port)
    ws.receive()
    run = server.json("POST", "/api/runs", {"path": "edits/edited.circuit", "text": text}, status=201)["run"]
    assert (workspace / "edits" / "edited.circuit").read_text() == text
    assert ws.run_events(run["id"])[-1]["state"] == "done"
    ws.close()
    assert (workspace / "results" / "edited" / "results.json").is_file()


def test_a_broken_file_fails_with_its_first_error(server, workspace):
    broken = INDUCTION.replace("previous_token_score(repeated_tokens)", "previous_token_scroe(repeated_tokens)")
    before = snapshot(workspace / "results")
    ws = WebSocket(server.port)
    ws.receive()
    run = server.json("POST", "/api/runs", {"path": "broken/induction.circuit", "text": broken}, status=201)["run"]
    failed = ws.run_events(run["id"])[-1]
    ws.close()
    assert failed["state"] == "failed" and failed["results"] is None
    assert failed["error"].startswith("broken/induction.circuit:") and "error[" in failed["error"], failed
    assert server.request("GET", f"/api/runs/{run['id']}/results")[0] == 409
    assert snapshot(workspace / "results") == before  # results/induction/ untouched


def test_nothing_lost_or_half_written(server, workspace):
    files = snapshot(workspace)
    assert files["examples/induction.circuit"] == INDUCTION.encode()
    assert files["notes.txt"] == b"not a circuit\n"
    assert not [name for name in files if ".tmp." in name], files.keys()
    for name in ("induction", "edited"):
        json.loads(files[f"results/{name}/results.json"])
        json.loads(files[f"results/{name}/circuit.json"])


def test_token_on_other_hosts(binary, workspace):
    s = Server(binary, workspace, "--host", "0.0.0.0")
    try:
        token = re.search(r"\?token=([0-9a-f]{32})", s.address)
        assert token, s.output
        assert s.request("GET", "/api/session")[0] == 401
        assert s.request("GET", "/api/session?token=wrong")[0] == 401
        assert s.request("GET", "/api/session", headers={"Authorization": "Bearer " + token.group(1)})[0] == 200
        assert s.request("GET", "/api/files?token=" + token.group(1))[0] == 200
        assert WebSocket(s.port).status == 401
        assert WebSocket(s.port, "/api/events?token=" + token.group(1)).status == 101
    finally:
        s.stop()
    assert s.proc.returncode == 0 and "stopped" in s.proc.stdout.read()


def test_token_given_on_loopback(binary, workspace):
    token = "Zq3-x_Y7pLm2Kd9Rt4Wv8N"  # 22 base64url characters: 132 bits
    s = Server(binary, workspace, "--token", token)
    try:
        assert s.address.endswith("?token=" + token)
        assert s.request("GET", "/api/runs")[0] == 401
        assert s.request("GET", "/api/runs", headers={"Authorization": "Bearer " + token})[0] == 200
    finally:
        s.stop()


def test_bad_workspace_is_one_line_error(binary, tmp_path):
    proc = subprocess.run([binary, "serve", str(tmp_path / "missing")], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1 and "missing: not a folder" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
