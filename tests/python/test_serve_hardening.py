"""`circuit serve` under attack from the same machine (docs/server-api.md, "Who may call"):
another site's page (a foreign Origin on POST, PUT and the WebSocket; a DNS-rebound Host; a
text/plain form body), names that would inject a header, one client holding hundreds of idle
connections and WebSockets while another works, a 1 MiB compile beside a GET, token guessing,
a token too short to be safe. The "attacker" connects from 127.0.0.2 and the "victim" from
127.0.0.1 (Linux routes all of 127.0.0.0/8 to the loopback): limits are per address. Every
socket opened is closed, and every wait is bounded."""
import base64
import http.client
import json
import os
import re
import resource
import select
import socket
import statistics
import subprocess
import threading
import time
from contextlib import ExitStack

import pytest

from test_serve_api import INDUCTION, Server, binary  # noqa: F401 (binary is a fixture)

ATTACKER = "127.0.0.2"
EVIL = "http://evil.example"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("hardening")
    (root / "examples").mkdir()
    (root / "examples" / "induction.circuit").write_text(INDUCTION)
    # Results whose folder names would break a Content-Disposition header if sent as they are.
    for name in ('quote"d', "semi;colon"):
        folder = root / "results" / name
        folder.mkdir(parents=True)
        (folder / "results.json").write_text(json.dumps({"format": "circuitry.results", "passed": True}))
        (folder / "circuit.json").write_text(json.dumps({"format": "circuitry.circuit"}))
    outside = tmp_path_factory.mktemp("outside")
    (root / "dangling").symlink_to(outside / "gone", target_is_directory=True)
    return root


@pytest.fixture(scope="module")
def server(binary, workspace):  # noqa: F811
    s = Server(binary, workspace)
    yield s
    s.stop()


def raw_request(port, method, path, headers=None, body=b"", source=None, timeout=10):
    """(status, {lower-case header: value}, body) of one request on its own connection, sent
    exactly as given (no Host or Content-Type added unless in `headers`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                  source_address=(source, 0) if source else None) as sock:
        lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        sock.sendall(("\r\n".join(lines) + "\r\nConnection: close\r\n\r\n").encode() + body)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    found = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        found[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), found, rest


def own(port):
    return {"Host": f"127.0.0.1:{port}"}


def ws_upgrade(port, path="/api/events", origin=None, source=None, host=None, timeout=10):
    """(socket, status) of a WebSocket handshake; the socket is left open for the caller."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                    source_address=(source, 0) if source else None)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {path} HTTP/1.1", f"Host: {host or f'127.0.0.1:{port}'}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if origin:
        lines.append(f"Origin: {origin}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    try:
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                return sock, 0  # closed without an answer
            head += chunk
    except OSError:
        return sock, 0
    return sock, int(head.split(b" ")[1])


def get_latency(port, path="/api/files"):
    """Seconds for one GET on a fresh connection from 127.0.0.1."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    conn.close()
    assert response.status == 200
    return time.perf_counter() - started


def median_latency(port, n=7):
    return statistics.median(get_latency(port) for _ in range(n))


def closed_by_server(sock):
    """Whether the server has closed (or reset) this connection, without waiting."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


@pytest.fixture(autouse=True, scope="module")
def enough_file_descriptors():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2048:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(2048, hard), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# --- another site's page ---------------------------------------------------------------------

def test_foreign_origin_cannot_post_put_or_delete(server, workspace):
    runs_before = server.json("GET", "/api/runs")["runs"]
    body = json.dumps({"path": "examples/induction.circuit"}).encode()
    for content_type in ("text/plain", "application/json"):
        status, headers, data = raw_request(server.port, "POST", "/api/runs",
                                            {**own(server.port), "Origin": EVIL, "Content-Type": content_type}, body)
        assert status == 403 and "evil.example" in json.loads(data)["error"], data
        assert "access-control-allow-origin" not in headers
    status, _, _ = raw_request(server.port, "PUT", "/api/files/planted.circuit",
                               {**own(server.port), "Origin": EVIL, "Content-Type": "application/json"},
                               json.dumps({"text": "x"}).encode())
    assert status == 403
    assert raw_request(server.port, "DELETE", "/api/files/examples/induction.circuit",
                       {**own(server.port), "Origin": EVIL})[0] == 403
    assert raw_request(server.port, "POST", "/api/runs/r1/cancel", {**own(server.port), "Origin": "null"})[0] == 403
    assert not (workspace / "planted.circuit").exists()
    assert server.json("GET", "/api/runs")["runs"] == runs_before, "a foreign page queued a run"
    # The server's own page may.
    status, _, data = raw_request(server.port, "POST", "/api/compile",
                                  {**own(server.port), "Origin": f"http://127.0.0.1:{server.port}",
                                   "Content-Type": "application/json"},
                                  json.dumps({"path": "examples/induction.circuit", "text": INDUCTION}).encode())
    assert status == 200 and json.loads(data)["diagnostics"] == []


def test_foreign_origin_cannot_open_the_event_stream(server):
    sock, status = ws_upgrade(server.port, origin=EVIL)
    sock.close()
    assert status == 403
    sock, status = ws_upgrade(server.port, origin=f"http://localhost:{server.port}")
    sock.close()
    assert status == 101


def test_a_rebound_host_is_refused(server, workspace):
    evil_host = {"Host": f"evil.example:{server.port}"}
    for path in ("/api/session", "/api/files/examples/induction.circuit", "/"):
        status, headers, data = raw_request(server.port, "GET", path, evil_host)
        assert status == 403 and "Host" in json.loads(data)["error"], (path, data)
        assert headers["content-type"] == "application/json"
    status, _, _ = raw_request(server.port, "PUT", "/api/files/rebound.circuit",
                               {**evil_host, "Content-Type": "application/json"}, json.dumps({"text": "x"}).encode())
    assert status == 403 and not (workspace / "rebound.circuit").exists()
    sock, status = ws_upgrade(server.port, host=f"evil.example:{server.port}")
    sock.close()
    assert status == 403
    # The names of the printed address still work: the web app opens from it.
    for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}"):
        status, headers, page = raw_request(server.port, "GET", "/", {"Host": host})
        assert status == 200 and headers["content-type"].startswith("text/html") and page


def test_bodies_must_be_declared_json(server, workspace):
    body = json.dumps({"path": "examples/induction.circuit", "text": INDUCTION}).encode()
    for headers in ({"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"}, {}):
        status, _, data = raw_request(server.port, "POST", "/api/compile", {**own(server.port), **headers}, body)
        assert status == 415 and "application/json" in json.loads(data)["error"], (headers, data)
    status, _, _ = raw_request(server.port, "PUT", "/api/files/plain.circuit",
                               {**own(server.port), "Content-Type": "text/plain"}, json.dumps({"text": "x"}).encode())
    assert status == 415 and not (workspace / "plain.circuit").exists()


def test_no_answer_grants_cross_origin_reads(server):
    for method, path, extra in (("GET", "/api/session", {}), ("OPTIONS", "/api/runs",
                                {"Access-Control-Request-Method": "POST"}), ("GET", "/", {})):
        status, headers, _ = raw_request(server.port, method, path, {**own(server.port), "Origin": EVIL, **extra})
        assert not any(h.startswith("access-control-") for h in headers), (method, path, headers)
    assert raw_request(server.port, "OPTIONS", "/api/runs", own(server.port))[0] == 405


# --- names that would break the protocol -----------------------------------------------------

def test_a_crlf_file_name_is_refused(server, workspace):
    status, _, data = server.request("PUT", "/api/files/inj%0D%0AX-Injected:%20yes.circuit", {"text": "x"})
    assert status == 400 and "control character" in json.loads(data)["error"], data
    for path in ("a%0Ab.circuit", "tab%09.circuit", "del%7F.circuit"):
        assert server.request("PUT", "/api/files/" + path, {"text": "x"})[0] == 400, path
    status, _, _ = server.request("POST", "/api/runs", {"path": "inj\r\nX-Injected: yes.circuit", "text": "x"})
    assert status == 400
    assert server.request("GET", "/api/runs/saved:a%0D%0Ab/circuit")[0] == 400
    assert not [p for p in workspace.rglob("*") if "\n" in p.name or "\r" in p.name]


def test_download_names_cannot_break_the_header(server):
    for stem, expected in (('quote"d', "quote_d"), ("semi;colon", "semi_colon")):
        status, headers, data = raw_request(server.port, "GET", f"/api/runs/saved:{stem.replace(chr(34), '%22')}/circuit",
                                            own(server.port))
        assert status == 200 and json.loads(data)["format"] == "circuitry.circuit"
        assert headers["content-disposition"] == f'attachment; filename="{expected}.circuit.json"'


def test_a_dangling_symlink_out_is_400(server):
    status, _, data = server.request("PUT", "/api/files/dangling/new.circuit", {"text": "x"})
    assert status == 400 and "symlink" in json.loads(data)["error"], data


# --- one client cannot lock out another ------------------------------------------------------

def test_idle_connections_from_one_client_do_not_stop_another(server):
    baseline = median_latency(server.port)
    with ExitStack() as stack:
        held = []
        for i in range(300):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", server.port), timeout=5,
                                                                source_address=(ATTACKER, 0)))
            try:
                sock.sendall(b"GET /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # a header never finished
            except OSError:
                pass  # refused at once: the server closed it already
            held.append(sock)
        time.sleep(0.3)
        during = median_latency(server.port)
        still_open = sum(not closed_by_server(s) for s in held)
    assert during < 0.05, (baseline, during)
    assert still_open <= 32, f"one address kept {still_open} connections (its cap is 32)"


def test_idle_websockets_from_one_client_do_not_stop_another(server):
    with ExitStack() as stack:
        statuses = []
        for _ in range(260):
            sock, status = ws_upgrade(server.port, source=ATTACKER, timeout=5)
            stack.callback(sock.close)
            statuses.append(status)
        accepted = statuses.count(101)
        assert 1 <= accepted <= 16, statuses
        victim, status = ws_upgrade(server.port)
        stack.callback(victim.close)
        assert status == 101
        during = median_latency(server.port)
    assert during < 0.05, during


def test_a_partial_header_is_dropped_within_seconds(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        ready, _, _ = select.select([sock], [], [], 12)
        waited = time.monotonic() - started
        assert ready and closed_by_server(sock), "the server kept a silent connection open"
    assert waited < 8, waited


def test_a_big_compile_does_not_hold_up_a_get(server):
    # A megabyte of valid definitions: a compile that takes a while on any machine.
    lines, size = [INDUCTION], len(json.dumps(INDUCTION))
    while size < (1 << 20) - 200:  # the body, escapes included, just under 1 MiB
        lines.append(f"let p{len(lines)} = heads 0.* where prev_scores > 0.4\n")
        size += len(lines[-1]) + 1  # "\n" is two characters in JSON
    body = json.dumps({"path": "examples/big.circuit", "text": "".join(lines[:-1])})
    assert 1_000_000 < len(body) < 1 << 20
    baseline = median_latency(server.port)
    answer = {}

    def compile_big():
        started = time.perf_counter()
        status, _, data = server.request("POST", "/api/compile", body)
        answer.update(status=status, seconds=time.perf_counter() - started, data=data)

    worker = threading.Thread(target=compile_big)
    worker.start()
    time.sleep(0.05)  # the body is on its way
    latencies = []
    while worker.is_alive() and len(latencies) < 40:
        latencies.append(get_latency(server.port))
    worker.join(timeout=120)
    assert answer.get("status") == 200, answer
    assert len(latencies) >= 3, f"the compile took {answer['seconds']:.3f} s, too short to overlap GETs"
    delay = statistics.median(latencies) - baseline
    assert delay < 0.020, (baseline, latencies, answer["seconds"])


# --- the access token ------------------------------------------------------------------------

TOKEN = "0123456789abcdef" * 2


def test_the_eleventh_wrong_token_in_a_second_waits(binary, workspace):  # noqa: F811
    s = Server(binary, workspace, "--token", TOKEN)
    right = TOKEN
    try:
        started = time.monotonic()
        statuses = [s.request("GET", f"/api/session?token=wrong{i}")[0] for i in range(10)]
        assert time.monotonic() - started < 1.0
        assert statuses == [401] * 10
        status, headers, data = s.request("GET", "/api/session?token=wrong10")
        assert status == 429 and int(headers["Retry-After"]) >= 1, (status, data)
        # While it waits, even the right token is not looked at (guessing on tells nothing) ...
        assert s.request("GET", f"/api/session?token={right}")[0] == 429
        # ... but another address is not held up.
        assert raw_request(s.port, "GET", f"/api/session?token={right}", own(s.port), source=ATTACKER)[0] == 200
        time.sleep(int(headers["Retry-After"]) + 0.2)
        assert s.request("GET", f"/api/session?token={right}")[0] == 200
    finally:
        s.stop()


@pytest.mark.parametrize("token", ["ab", "letmein", "0123456789abcdef0123456789abcde", "a" * 40])
def test_a_short_token_is_refused_at_start(binary, workspace, token):  # noqa: F811
    proc = subprocess.run([binary, "serve", str(workspace), "--port", "0", "--token", token],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--token" in lines[0] and "128 bits" in lines[0], proc.stderr


def test_a_generated_token_is_128_bits(binary, workspace):  # noqa: F811
    s = Server(binary, workspace, "--host", "0.0.0.0")
    try:
        token = re.search(r"\?token=([0-9a-f]+)$", s.address).group(1)
        assert len(token) == 32
    finally:
        s.stop()


def test_allow_host_adds_a_name(binary, workspace):  # noqa: F811
    s = Server(binary, workspace, "--allow-host", "box.lan", "--allow-host", "proxy.example:443")
    try:
        assert raw_request(s.port, "GET", "/api/files", {"Host": f"box.lan:{s.port}"})[0] == 200
        assert raw_request(s.port, "GET", "/api/files", {"Host": "proxy.example:443"})[0] == 200
        assert raw_request(s.port, "GET", "/api/files", {"Host": f"other.lan:{s.port}"})[0] == 403
        status, _, _ = raw_request(s.port, "POST", "/api/compile",
                                   {"Host": f"box.lan:{s.port}", "Origin": f"http://box.lan:{s.port}",
                                    "Content-Type": "application/json"},
                                   json.dumps({"path": "examples/induction.circuit", "text": INDUCTION}).encode())
        assert status == 200
    finally:
        s.stop()
    proc = subprocess.run([binary, "serve", str(workspace), "--port", "0", "--allow-host", "bad name"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1 and "--allow-host" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
