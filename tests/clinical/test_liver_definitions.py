"""The liver-event definitions on hand-made lab sequences: CTCAE v5 grade >= 2 against an
abnormal baseline, ALP-led (cholestatic) injury, prevalent entry values, the severe outcome and
Hy's law on ALT or AST."""

from __future__ import annotations

import numpy as np
import pytest

from hepatorisk.clinical import dili
from hepatorisk.clinical.ctcae import ctcae_grade
from hepatorisk.clinical.liver_events import (
    grade2_or_worse,
    new_onset_elevation,
    prevalent_abnormality,
    reference,
    severe_elevation,
)

NAN = np.nan
ULN = {"alt": 40.0, "ast": 40.0, "alp": 115.0, "bilirubin": 1.0}


def _labs(**values: float) -> dict[str, np.ndarray]:
    """One patient's tests (normal unless given), each a 1-element array."""
    normal = {"alt": 30.0, "ast": 30.0, "alp": 90.0, "bilirubin": 0.6, "inr": 1.0}
    return {t: np.array([values.get(t, v)]) for t, v in normal.items()}


def _ulns() -> dict[str, np.ndarray]:
    return {t: np.array([u]) for t, u in ULN.items()}


def test_reference_is_the_baseline_only_when_it_is_above_uln():
    assert reference(np.array([80.0, 30.0, NAN]), 40.0).tolist() == [80.0, 40.0, 40.0]


def test_alt_against_an_abnormal_baseline():
    """Baseline ALT 2x ULN: 5x ULN later is 2.5x baseline, not grade 2; 7x ULN (3.5x) is."""
    baseline, later = 80.0, np.array([200.0, 280.0])  # 2x, then 5x and 7x ULN
    assert grade2_or_worse("alt", later, ULN["alt"], np.full(2, baseline)).tolist() == [
        False,
        True,
    ]
    # the same values against ULN (no baseline known) are both grade >= 2
    assert grade2_or_worse("alt", later, ULN["alt"]).tolist() == [True, True]
    five = ctcae_grade("alt", 200.0, ULN["alt"], baseline)
    seven = ctcae_grade("alt", 280.0, ULN["alt"], baseline)
    assert (five.reference, five.multiple, five.grade) == ("baseline", 2.5, 1)
    assert (seven.reference, seven.multiple, seven.grade) == ("baseline", 3.5, 2)
    # a normal baseline leaves the ULN as the reference
    assert ctcae_grade("alt", 200.0, ULN["alt"], 30.0).grade == 2  # 5x ULN: grade 2 is >3-5


def test_new_onset_over_draws_with_an_abnormal_baseline():
    """Patients x draws: patient 0 enters at ALT 2x ULN and reaches 5x then 7x; patient 1 has a
    normal baseline and reaches 3.5x ULN."""
    values = {
        "alt": np.array([[80.0, 200.0, 280.0], [30.0, 60.0, 140.0]]),
        "ast": np.full((2, 3), 30.0),
        "alp": np.full((2, 3), 90.0),
    }
    baseline = {"alt": np.array([80.0, 30.0]), "ast": np.full(2, 30.0), "alp": np.full(2, 90.0)}
    ulns = {t: np.full(2, ULN[t]) for t in ("alt", "ast", "alp")}
    onset = new_onset_elevation(values, baseline, ulns)
    assert onset.tolist() == [[False, False, True], [False, False, True]]


def test_alp_led_cholestatic_injury_is_a_new_onset_elevation():
    """ALT and AST normal, ALP 100 -> 300 U/L (2.6x ULN): CTCAE grade 2 of ALP counts."""
    baseline = _labs(alp=100.0)
    onset = new_onset_elevation(_labs(alp=300.0), baseline, _ulns())
    below = new_onset_elevation(_labs(alp=280.0), baseline, _ulns())  # 2.43x ULN: grade 1
    assert onset.tolist() == [True] and below.tolist() == [False]
    assert ctcae_grade("alp", 300.0, ULN["alp"], 100.0).grade == 2
    # an abnormal ALP baseline (150 U/L, 1.3x ULN) moves the bar: 300 is 2x baseline, grade 1
    assert new_onset_elevation(_labs(alp=300.0), _labs(alp=150.0), _ulns()).tolist() == [False]
    assert new_onset_elevation(_labs(alp=380.0), _labs(alp=150.0), _ulns()).tolist() == [True]


def test_prevalent_abnormality_at_entry():
    """Entry ALT 4x ULN or ALP 3x ULN is prevalent; ALT 2x ULN or an unknown AST is not."""
    entry = {
        "alt": np.array([160.0, 80.0, 30.0, 30.0]),
        "ast": np.array([30.0, 30.0, NAN, 30.0]),
        "alp": np.array([90.0, 90.0, 90.0, 345.0]),
    }
    ulns = {t: np.full(4, ULN[t]) for t in entry}
    assert prevalent_abnormality(entry, ulns).tolist() == [True, False, False, True]


def test_severe_elevation_by_inr_alone():
    """ALT 6x ULN with normal bilirubin is severe only when INR is above 1.5."""
    baseline = _labs()
    ulns = _ulns()
    assert severe_elevation(_labs(alt=240.0, inr=1.6), baseline, ulns).tolist() == [True]
    assert severe_elevation(_labs(alt=240.0, inr=1.5), baseline, ulns).tolist() == [False]
    assert severe_elevation(_labs(alt=240.0, inr=NAN), baseline, ulns).tolist() == [False]
    # coagulopathy without an enzyme elevation is not a liver event
    assert severe_elevation(_labs(inr=2.0), baseline, ulns).tolist() == [False]


def test_severe_elevation_by_bilirubin_against_an_abnormal_baseline():
    """Bilirubin baseline 2 mg/dL (ULN 1): 3.5 is 1.75x baseline (not severe), 4.5 is 2.25x."""
    baseline = _labs(bilirubin=2.0)
    ulns = _ulns()
    assert severe_elevation(_labs(alt=240.0, bilirubin=3.5), baseline, ulns).tolist() == [False]
    assert severe_elevation(_labs(alt=240.0, bilirubin=4.5), baseline, ulns).tolist() == [True]


@pytest.mark.parametrize(
    ("alt", "ast", "bilirubin", "alp", "expected"),
    [
        (1.5, 4.0, 2.5, 1.2, True),  # AST alone meets the aminotransferase criterion
        (1.5, None, 2.5, 1.2, False),  # AST not given: ALT decides
        (1.5, NAN, 2.5, 1.2, False),  # AST missing (NaN) meets nothing
        (3.0, None, 2.5, 1.2, True),  # ALT >= 3x ULN (inclusive)
        (1.5, 4.0, 2.0, 1.2, False),  # bilirubin must be above 2x ULN
        (1.5, 4.0, 2.5, 2.0, False),  # ALP 2x ULN: cholestasis, not Hy's law
        (1.5, 4.0, 2.5, NAN, False),  # unknown ALP never passes as below 2x ULN
    ],
)
def test_hys_law_on_alt_or_ast(alt, ast, bilirubin, alp, expected):
    assert bool(dili.hys_law(alt, bilirubin, alp, ast)) is expected


def test_hys_law_is_element_wise_and_keeps_the_three_argument_call():
    alt = np.array([1.5, 1.5, 5.0, 1.0])
    ast = np.array([4.0, NAN, NAN, 3.5])
    bili = np.array([2.5, 2.5, 2.5, 1.0])
    alp = np.array([1.2, 1.2, 1.2, 1.2])
    assert dili.hys_law(alt, bili, alp, ast).tolist() == [True, False, True, False]
    assert dili.hys_law(alt, bili, alp).tolist() == [False, False, True, False]
    # patients x draws, as the generator calls it
    grid = dili.hys_law(alt.reshape(2, 2), bili.reshape(2, 2), alp.reshape(2, 2), ast.reshape(2, 2))
    assert grid.tolist() == [[True, False], [True, False]]
