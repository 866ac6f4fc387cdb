"""Hook plans validate against schema/hookplan.schema.json with the reference `jsonschema`
package: the plan_json seed corpus's valid plans, and the plans `circuit compile --emit plan`
writes for the examples in stage 1 and, given measurements (--measured), in stage 2, where the
selectors, circuits and claims have been lowered. Needs the `jsonschema` package."""
import json
import subprocess
from pathlib import Path

import pytest

from conftest import find_circuit_binary

jsonschema = pytest.importorskip("jsonschema")

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "schema" / "hookplan.schema.json").read_text())
CORPUS = REPO / "tests" / "fuzz" / "plan_json" / "corpus"


def validator():
    cls = jsonschema.validators.validator_for(SCHEMA)
    cls.check_schema(SCHEMA)
    return cls(SCHEMA)


def compile_plan(tmp_path, source, measured=None, level="-O1"):
    binary = find_circuit_binary()
    if binary is None:
        pytest.skip("the circuit binary is not built (set CIRCUIT_BIN)")
    args = [binary, "compile", str(REPO / "examples" / source), "--emit", "plan", level]
    if measured is not None:
        path = tmp_path / "measured.json"
        path.write_text(json.dumps(measured))
        args += ["--measured", str(path)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


@pytest.mark.parametrize("seed", sorted(p.name for p in CORPUS.glob("valid_*.json")))
def test_corpus_plans_match_the_schema(seed):
    validator().validate(json.loads((CORPUS / seed).read_text()))


def test_schema_rejects_an_unknown_analysis_kind():
    plan = json.loads((CORPUS / "valid_analyses.json").read_text())
    plan["analyses"][0]["kind"] = "telepathy"
    assert list(validator().iter_errors(plan))


def test_induction_stages(tmp_path):
    first, warnings = compile_plan(tmp_path, "induction.circuit")
    validator().validate(first)
    kinds = {a["name"]: a["kind"] for a in first["analyses"]}
    assert kinds == {"prev_scores": "previous_token_score", "ind_scores": "induction_score", "lens": "logit_lens"}
    assert "runs in a later stage of `circuit run`" in warnings
    heads = lambda layer, scores: {f"a{layer}.h{h}": s for h, s in enumerate(scores)}
    measured = {"scores": {"prev_scores": heads(0, [0.9, 0.1, 0.2, 0.3]), "ind_scores": heads(1, [0.1, 0.8, 0.2, 0.0])},
                "done": ["prev_scores", "ind_scores", "patterns", "lens"]}
    second, warnings = compile_plan(tmp_path, "induction.circuit", measured)
    validator().validate(second)
    assert "W050" not in warnings
    claims = {c["expression"]: c for c in second["claims"]}
    assert claims["count(prev_heads)"]["constant"] == 1
    faithful = claims["faithfulness(induction on repeated_tokens, metric: logprob)"]
    analysis = next(a for a in second["analyses"] if a["name"] == faithful["experiment"])
    assert analysis["kind"] == "faithfulness"
    assert sorted(analysis["edges"]) == sorted([
        "input->a0.h0<q>", "input->a0.h0<k>", "input->a0.h0<v>",  # embed -> prev_heads
        "input->a1.h1<q>", "input->a1.h1<v>",                      # embed -> induction_heads.q/.v
        "a0.h0->a1.h1<k>", "a1.h1->logits"])
