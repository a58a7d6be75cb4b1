"""The JSON API with a treatment course (issue 13, item 6): answers say the week of treatment
and which landmark model answered; dates out of place are a 422 naming the field and range;
the README's mid-treatment example is what the generator writes."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from typing import Any

from service_support import AUTH, patient

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MID = json.loads((EXAMPLES / "assess_mid_treatment.json").read_text())


def _as_of(answer: dict[str, Any]) -> list[tuple[int, int | None]]:
    return [(r["as_of_week"], r["landmark_week"]) for r in answer["risks"]]


def test_a_mid_treatment_answer_says_its_week_and_landmark(client) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/v1/assess", json=MID, headers=AUTH)
    assert r.status_code == 200, r.text
    a = r.json()
    assert _as_of(a) == [(6, 4), (6, 4)]
    for risk in a["risks"]:
        assert risk["as_of"] == "as of week 6 of treatment: the week-4 landmark model answered"
        assert risk["probability_range"] is None  # the test models carry no ensemble
    plain = client.post("/v1/assess", json=patient(), headers=AUTH).json()
    assert _as_of(plain) == [(0, 0), (0, 0)]
    assert plain["risks"][0]["as_of"].startswith("as of week 0 of treatment")
    # batch and predict say it per patient; explain per model
    batch = client.post(
        "/v1/assess/batch", json={"patients": [patient(), MID], "explain": False}, headers=AUTH
    ).json()
    assert [_as_of(x) for x in batch["assessments"]] == [[(0, 0), (0, 0)], [(6, 4), (6, 4)]]
    predicted = client.post("/v1/predict", json=MID, headers=AUTH).json()
    assert _as_of(predicted) == [(6, 4), (6, 4)]
    explained = client.post("/v1/explain", json=MID, headers=AUTH).json()["explanations"]
    assert [(e["as_of_week"], e["landmark_week"]) for e in explained] == [(6, 4), (6, 4)]


def test_a_visit_after_the_assessment_date_is_a_422_naming_field_and_range(client) -> None:  # type: ignore[no-untyped-def]
    body = copy.deepcopy(MID)
    body["course"]["visits"][5]["date"] = "2026-11-13"  # the day after as_of
    r = client.post("/v1/assess", json=body, headers=AUTH)
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["field"] == "course.visits.5.date"
    assert error["allowed"] == ">= 2026-11-12 and <= 2026-11-12"  # week 6: after week 5
    assert "from 2026-11-12 to 2026-11-12" in error["problem"]


def test_the_readme_example_is_the_generators_answer(model_dirs) -> None:  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("mid_treatment", EXAMPLES / "mid_treatment.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    fresh = generator.answer(str(model_dirs["liver"]), str(model_dirs["relapse"]))
    committed = json.loads((EXAMPLES / "assess_mid_treatment.response.json").read_text())
    assert committed.keys() == fresh.keys()
    assert [r.keys() for r in committed["risks"]] == [r.keys() for r in fresh["risks"]]
    assert _as_of(committed) == [(6, r["landmark_week"]) for r in committed["risks"]]
    readme = (EXAMPLES.parent / "README.md").read_text()
    block = readme.split(generator.BEGIN)[1].split(generator.END)[0]
    for risk in committed["risks"]:  # the README quotes the committed answer
        assert f'"probability": {round(risk["probability"], 3)}' in block
        assert risk["as_of"] in block
    assert committed["unknown_inputs"][0]["text"] in block
