"""results.json is a contract: schema/results.schema.json (JSON Schema 2020-12) describes every
field the C++ writer (session/results_writer.cpp) can emit, closed where the writer's set is
closed, and the output of `circuit run` validates against it: every example on the embedded
tiny models, the views' fixture program, and a program that reaches every kind of experiment
the writer reports (all 15 analysis kinds, a sweep, passes with saves, measures, a claim no
stage measured). The IOI example (SmolLM2, minutes) is validated where test_examples.py
already runs it. A result that disagrees with the schema, by a key, a type or an enum, fails."""
import copy
import json
import re
from pathlib import Path

import pytest

jsonschema = pytest.importorskip("jsonschema")

from conftest import circuit_binary_with  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "schema" / "results.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
# The models small enough to run here in seconds; examples on others (SmolLM2) are validated by
# test_examples.py, which runs them anyway.
TINY_MODELS = {"induction-2l", "known-induction", "known-prev-token"}
EXAMPLES = sorted((REPO / "examples").glob("*.circuit"))
FIXTURES = REPO / "webview" / "src" / "views" / "tests" / "fixtures"

# Every kind of experiment the results writer reports, on induction-2l.
EVERY_KIND = """model "induction-2l"

task pairs {
  prompts: ["abcab", "xyzxy"]
  answers: ["c", "z"]
  wrong: ["z", "c"]
  corrupt: ["abdeb", "xywvy"]
}
task rep {
  random_tokens: 3
  count: 2
  seed: 0
}

let prev_scores = previous_token_score(rep)
let ind_scores = induction_score(rep)
let dup = duplicate_token_score(rep)
let copying = copying_score(rep)
let lens = logit_lens(pairs, metric: logprob)
let direct = dla(pairs, over: heads *)
let sweep = patch_sweep(pairs, over: heads * @ -1, metric: logit_diff(normalized: true))
let paths = path_patch(pairs, senders: heads 0.*, receivers: head 1.2.k, metric: logit_diff(normalized: true))
let attribution = attribution_patch(pairs, over: heads * @ -1, metric: logit_diff)
circuit found = eap(pairs, metric: logit_diff, top: 10)
circuit edges = eap_ig(pairs, metric: logit_diff, top: 5, steps: 3)
circuit pruned = acdc(rep, metric: logprob, threshold: 0.05)
let some = attention(pairs, over: heads 1.1)
let intact = measure(pairs, metric: logprob)
let zeroed = measure(pairs, metric: logprob, with: [zero(head 1.1, batch: 0..0)])
let top_heads = heads 1.* where ind_scores > 0.4

circuit chain {
  embed -> heads 0.* -> head 1.1.q
  head 1.1 -> logits
}
circuit through_resid {
  resid 0 pre -> logits
}

expect count(top_heads) >= 0
expect faithfulness(chain on pairs, metric: logprob) > -1000
expect completeness(chain on pairs, metric: logprob) > -1000
expect minimality(chain on pairs, metric: logprob) > -1000
expect cpr(found on pairs, metric: logit_diff) > -1000
expect cmd(found on pairs, metric: logit_diff) > -1000
expect intact > -1000
expect faithfulness(through_resid on pairs, metric: logprob) > 0
"""


def schema_errors(results):
    """Each way `results` disagrees with the schema, as "path: message"."""
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message[:300]}"
            for e in sorted(VALIDATOR.iter_errors(results), key=lambda e: list(map(str, e.absolute_path)))]


def assert_valid_results(results):
    """Fails, naming each place, when a results.json does not validate against its schema."""
    errors = schema_errors(results)
    assert not errors, "results.json does not match schema/results.schema.json:\n" + "\n".join(errors[:20])


def model_of(path):
    m = re.search(r'^model\s+"([^"]+)"', path.read_text(), re.MULTILINE)
    return m.group(1) if m else None


@pytest.fixture(scope="module")
def binary():
    return circuit_binary_with("run")


def run_results(binary, source, out):
    import subprocess
    proc = subprocess.run([binary, "run", source, "--out", out], capture_output=True, text=True,
                          timeout=900, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((Path(out) / "results.json").read_text())


def test_the_schema_is_a_valid_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["format"] == {"const": "circuitry.results"}
    assert SCHEMA["properties"]["version"] == {"const": 1}


def test_its_kinds_are_the_hook_plans():
    # The metric and analysis kinds the writer names come from the plan's tables (plan/hook_plan.cpp),
    # which the hook-plan schema lists: the two schemas must not drift apart.
    plan = json.loads((REPO / "schema" / "hookplan.schema.json").read_text())["$defs"]
    ours = SCHEMA["$defs"]
    assert ours["metric"]["properties"]["kind"]["enum"] == plan["metric"]["properties"]["kind"]["enum"]
    assert ours["analysis"]["properties"]["kind"]["enum"] == plan["analysis"]["properties"]["kind"]["enum"]
    assert sorted(ours["comparator"]["enum"]) == sorted(plan["claim"]["properties"]["comparator"]["enum"])


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_on_a_tiny_model_writes_valid_results(binary, example, tmp_path):
    if model_of(example) not in TINY_MODELS:
        pytest.skip(f"{example.name} runs on {model_of(example)}: validated in test_examples.py")
    results = run_results(binary, example, tmp_path / "out")
    assert_valid_results(results)
    assert results["document"]["nodes"] >= 0  # a results folder always says what circuit.json holds


def test_the_views_fixture_program_writes_valid_results(binary, tmp_path):
    results = run_results(binary, FIXTURES / "all_views.circuit", tmp_path / "out")
    assert_valid_results(results)


def test_every_kind_of_experiment_writes_valid_results(binary, tmp_path):
    source = tmp_path / "every_kind.circuit"
    source.write_text(EVERY_KIND)
    results = run_results(binary, source, tmp_path / "out")
    assert_valid_results(results)
    # What the run reached, so that the validation above covers it.
    analyses = {a["kind"] for e in results["experiments"] for a in e.get("analyses", [])}
    assert analyses == set(SCHEMA["$defs"]["analysis"]["properties"]["kind"]["enum"])
    assert any(e.get("sweeps") for e in results["experiments"])
    assert any(s.get("heads") == [1] for e in results["experiments"] for p in e.get("passes", []) for s in p["saves"])
    unmeasured = [c for c in results["claims"] if "bound" in c]
    assert len(unmeasured) == 1 and unmeasured[0]["measured"] is None and unmeasured[0]["passed"] is False
    assert results["passed"] is False


def test_the_views_fixtures_are_valid_results():
    # The web app's unit tests read these as real `circuit run` output: they must still be that.
    assert_valid_results(json.loads((FIXTURES / "induction_results.json").read_text()))


def _set(path, value):
    def change(r):
        *parents, last = path
        for p in parents:
            r = r[p]
        r[last] = value
    return change


def _drop(path):
    def change(r):
        *parents, last = path
        for p in parents:
            r = r[p]
        del r[last]
    return change


def _experiment(kind):
    def find(r):
        return next(e for e in r["experiments"] if e["kind"] == kind)
    return find


MUTATIONS = {
    "a key the schema does not know": _set(["note"], "x"),
    "a key in the model": _set(["model", "d_model"], 64),
    "a missing key": _drop(["stages"]),
    "another format": _set(["format"], "circuitry.circuit"),
    "another version": _set(["version"], 2),
    "a count that is not an integer": _set(["forwards"], 1.5),
    "a claim's threshold as text": lambda r: r["claims"][0].update(threshold="0.8"),
    "a claim with neither threshold nor bound": lambda r: r["claims"][0].pop("threshold"),
    "a claim no stage measured that passed": lambda r: r["claims"].append(
        {"name": "expect.9", "expression": "x", "comparator": ">", "bound": "0", "measured": None, "passed": True,
         "location": "a.circuit:9:1"}),
    "a key in an experiment": lambda r: r["experiments"][0].update(extra=1),
    "an analysis kind the plan does not have": lambda r: _experiment("induction_score")(r)["analyses"][0].update(
        kind="mystery"),
    "a key in an analysis": lambda r: _experiment("induction_score")(r)["analyses"][0].update(p_value=0.1),
    "a score that is text": lambda r: next(iter(r["scores"].values())).update({"a0.h0": "high"}),
    "a save without its shape": lambda r: _experiment("attention")(r)["passes"][0]["saves"][0].pop("shape"),
    "a batch without tokens": lambda r: next(iter(r["batches"].values())).pop("tokens"),
    "a key in the document summary": lambda r: r.update(document={"name": "x", "nodes": 1, "edges": 2, "bytes": 3}),
}


@pytest.mark.parametrize("what", list(MUTATIONS))
def test_a_result_that_disagrees_with_the_schema_fails(what):
    results = json.loads((FIXTURES / "induction_results.json").read_text())
    assert not schema_errors(results)
    changed = copy.deepcopy(results)
    MUTATIONS[what](changed)
    assert schema_errors(changed), f"{what}: validated, but the schema should refuse it"
    with pytest.raises(AssertionError, match="does not match schema/results.schema.json"):
        assert_valid_results(changed)
