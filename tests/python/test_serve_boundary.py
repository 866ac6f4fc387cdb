"""What the compiler may read for `circuit serve` (docs/server-api.md, "What the compiler may
read"): `use` of a path outside the workspace, by an absolute path, a `..` climb or a symlink
that leads out, gets one diagnostic that names the path as written, quotes nothing of the file
and reads the same whether the file exists or not; the same holds for a served run's compile;
files inside the workspace and the standard library still load. A real server on 127.0.0.1."""
import json
import os
from pathlib import Path

import pytest

from conftest import circuit_binary_with
from test_serve_api import Server, WebSocket

REPO = Path(__file__).resolve().parents[2]
INDUCTION = (REPO / "examples" / "induction.circuit").read_text()
SECRET = "SECRET-7f3a9c-DO-NOT-LEAK"


@pytest.fixture(scope="module")
def binary():
    return circuit_binary_with("serve")


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    """(workspace, outside): a workspace beside a folder the server must not read from."""
    base = tmp_path_factory.mktemp("boundary")
    workspace, outside = base / "workspace", base / "outside"
    (workspace / "examples").mkdir(parents=True)
    outside.mkdir()
    (workspace / "examples" / "induction.circuit").write_text(INDUCTION)
    (workspace / "lib.circuit").write_text("let inside_heads = heads 0.*\n")
    (outside / "secret.circuit").write_text(f"{SECRET} let leaked = head 0.1\n")
    os.symlink(outside / "secret.circuit", workspace / "link.circuit")
    os.symlink(outside / "absent.circuit", workspace / "dangling.circuit")
    return workspace, outside


@pytest.fixture(scope="module")
def server(binary, layout):
    s = Server(binary, layout[0])
    yield s
    s.stop()


def compile_use(server, wanted):
    status, _, body = server.request("POST", "/api/compile",
                                     {"path": "probe.circuit", "text": f'use "{wanted}"\n'},
                                     headers={"Content-Type": "application/json"})
    assert status == 200, body
    return body.decode()


def test_outside_paths_get_one_diagnostic_that_quotes_nothing(server, layout):
    workspace, outside = layout
    wanted = [
        "/etc/shadow",
        "../../etc/passwd.circuit",
        str(outside / "secret.circuit"),   # exists, outside
        str(outside / "absent.circuit"),   # does not exist, outside
        "../outside/secret.circuit",        # climbs out to an existing file
        "../outside/absent.circuit",        # climbs out to nothing
        "link.circuit",                     # a symlink in the workspace that leads out
        "dangling.circuit",                 # a dangling one that would lead out
    ]
    shapes = set()
    for path in wanted:
        body = compile_use(server, path)
        assert SECRET not in body and "leaked" not in body, (path, body)
        assert "root:" not in body, (path, body)  # nothing of /etc/passwd either
        report = json.loads(body)
        assert len(report["diagnostics"]) == 1, (path, report)
        d = report["diagnostics"][0]
        assert d["code"] == "E024" and d["severity"] == "error", (path, d)
        assert d["message"] == (f"cannot use '{path}': only files inside the workspace or the "
                                "standard library can be used here"), d
        assert (d["file"], d["line"], d["col"]) == ("probe.circuit", 1, 5), d
        # Identical apart from the path as written (its length moves end_col).
        shape = {k: v for k, v in d.items() if k not in ("end_col",)}
        shape["message"] = shape["message"].replace(path, "PATH")
        shapes.add(repr(sorted(shape.items())))
        assert d["end_col"] == 5 + len(path) + 2, d
    assert len(shapes) == 1, shapes


def test_inside_the_workspace_and_the_stdlib_still_load(server):
    text = 'use "lib.circuit"\nuse "ioi.circuit"\nlet both = inside_heads | heads 1.*\n'
    report = json.loads(server.request("POST", "/api/compile", {"path": "ok.circuit", "text": text},
                                       headers={"Content-Type": "application/json"})[2])
    assert report["diagnostics"] == [], report


def test_a_served_run_reads_nothing_outside_either(server, layout):
    workspace, outside = layout
    text = f'use "{outside / "secret.circuit"}"\n' + INDUCTION
    ws = WebSocket(server.port)
    ws.receive()
    run = server.json("POST", "/api/runs", {"path": "runs/escape.circuit", "text": text},
                      headers={"Content-Type": "application/json"}, status=201)["run"]
    failed = ws.run_events(run["id"])[-1]
    ws.close()
    assert failed["state"] == "failed", failed
    assert "error[E024]" in failed["error"] and SECRET not in failed["error"], failed
    assert "cannot use '" + str(outside / "secret.circuit") + "'" in failed["error"], failed
