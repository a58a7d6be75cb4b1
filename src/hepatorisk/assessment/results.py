"""What an assessment returns: plain dataclasses that are also the API's response contract.

Each field is written once, here: the JSON API serialises these dataclasses as they are and
documents them (pydantic reads the ``Field`` metadata), and the FHIR adapter reads the same
attributes. Dose what-ifs are the models' associations, not causal effects, and say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import Field

from hepatorisk.clinical.ctcae import CtcaeGrade
from hepatorisk.clinical.monitoring import MonitoringSchedule
from hepatorisk.clinical.stopping_rules import RuleResult, StopRecommendation

__all__ = [
    "DISCLAIMER",
    "NOT_PROVIDED",
    "OUTCOME_TEXT",
    "WHAT_IF_NOTE",
    "Assessment",
    "BenefitHarm",
    "DoseScenario",
    "Driver",
    "FeatureContribution",
    "GroupContribution",
    "GuidelineFlags",
    "ModelExplanation",
    "ModelRef",
    "Outcome",
    "Prediction",
    "ProbabilityRange",
    "Risk",
    "ScenarioAnswer",
    "ScenarioRisk",
    "UnknownInput",
    "as_of_text",
    "probability_text",
    "range_text",
]

Outcome = Literal["liver", "relapse"]

DISCLAIMER = (
    "Decision support only: hepatorisk's outputs inform, and never replace, a clinician's "
    "judgement. Models were trained on a synthetic cohort."
)
OUTCOME_TEXT = {
    "liver": "a new liver-enzyme elevation in the 12 weeks after the assessment: ALT, AST or "
    "ALP at CTCAE v5 grade 2 or more, graded against the baseline when the baseline is abnormal",
    "relapse": "return to opioid use in the 12 weeks after the assessment (4 consecutive "
    "positive or missing weekly urine screens, CTN-0094 definition)",
}
# Measured by the training pipelines' evaluate step (whatif_* metrics) on the demo cohort's test
# users (20,000 patients, seed 7): at 1.5x the dose the true liver risk rose 5.3 points and the
# model's by 0.1; for stopping the relapse model gave -0.5 points against a true +1.8.
WHAT_IF_NOTE = (
    "These numbers are not the effect of changing the dose (not causal): they are the models' "
    "predictions for this record with only the daily dose changed. Checked against the true "
    "effect in the synthetic test set, they missed it by about 5 points (1.5x the dose: true "
    "liver risk +5.3 points, model +0.1) and got the direction wrong for stopping and relapse. "
    "Do not use them to choose a dose; discuss any change with the patient."
)
NOT_PROVIDED = " (not provided: the risk is averaged over its plausible values)"


@dataclass(frozen=True)
class ModelRef:
    """Which registered model answered."""

    name: str
    version: str | None
    alias: str | None
    run_id: str | None
    source: str


@dataclass(frozen=True)
class Driver:
    """One clinical variable's contribution to a risk, in numbers and in words."""

    variable: str
    label: Annotated[str, Field(description="plain-word name of the clinical variable")]
    direction: Literal["raises", "lowers"]
    log_odds: Annotated[
        float, Field(description="exact SHAP contribution, calibrated log-odds scale")
    ]
    probability_points: Annotated[
        float, Field(description="share of the probability move, in points")
    ]
    text: str
    # False when the request gave none of the variable's inputs: the contribution is then the
    # model's for a missing value, and "injects drugs lowers the risk" must not be read as
    # "does not inject".
    provided: Annotated[
        bool,
        Field(
            description="false when the request gave none of this variable's inputs: the "
            "contribution is the model's for a missing value, not a statement about the patient"
        ),
    ] = True


def as_of_text(week: int, landmark: int | None, last: int | None) -> str:
    """When the answer holds and which model gave it: the one wording of every output (JSON,
    FHIR, cards). ``landmark``: the trained landmark week that answered (None: a model without
    landmarks); ``last``: the model's last landmark."""
    if landmark is None:
        return f"as of week {week} of treatment (a model trained at treatment entry answered)"
    if last is not None and week > last:
        return (
            f"as of week {week} of treatment: the last landmark model (week {last}) answered, "
            f"with the history through week {week}"
        )
    return f"as of week {week} of treatment: the week-{landmark} landmark model answered"


def probability_text(probability: float, interval: ProbabilityRange | None) -> str:
    """'21%' or '21% (90% range 17-26%)': a range is said only when the model carries one."""
    return f"{probability:.0%}{range_text(interval)}"


def range_text(interval: ProbabilityRange | None) -> str:
    """' (90% range 17-26%)', or '' when the model carries no range."""
    if interval is None:
        return ""
    low, high = interval.low * 100, interval.high * 100
    return f" ({interval.level:.0%} range {low:.0f}-{high:.0f}%)"


@dataclass(frozen=True)
class ProbabilityRange:
    """The model-uncertainty range of a probability (``ModelBundle.predict_interval``)."""

    low: Annotated[float, Field(ge=0, le=1)]
    high: Annotated[float, Field(ge=0, le=1)]
    level: Annotated[float, Field(description="nominal coverage, e.g. 0.9")]
    method: Annotated[str, Field(description="how the range was made (the model's metadata)")]
    test_coverage: Annotated[
        float | None,
        Field(
            description="share of the synthetic test set whose true probability the model's "
            "ranges covered; null when not measured"
        ),
    ] = None


@dataclass(frozen=True)
class ScenarioRisk:
    """The risk as the same recipe gives it when trained on the synthetic cohort generated
    under another scenario of kratom's effects."""

    scenario: Annotated[str, Field(description="the generator's scenario: low or high")]
    probability: Annotated[float, Field(ge=0, le=1)]


@dataclass(frozen=True)
class ScenarioAnswer:
    """How far a risk rests on an assumption of the synthetic training cohort (kratom's excess
    liver-injury risk, or its benefit on craving and withdrawal): the answer under the cohort's
    other scenarios (``assessment.scenario_answers`` states the rule)."""

    assumption: Annotated[str, Field(description="the assumption, in words")]
    served_scenario: Annotated[
        str, Field(description="the scenario of the cohort the served model learned from")
    ]
    applies: Annotated[
        bool,
        Field(
            description="false for a patient who does not use kratom (at entry or now): the "
            "assumption is about kratom, and no scenario risk is given"
        ),
    ]
    drives: Annotated[
        bool,
        Field(
            description="true when the assumption applies and the risks under the scenarios "
            "span at least 1 percentage point and at least the spread refitting alone gives "
            "patients not using kratom (the model's refit noise)"
        ),
    ]
    risks: Annotated[
        list[ScenarioRisk],
        Field(description="the risk under each other scenario; empty when it does not apply"),
    ]
    text: str
    refit_noise_points: Annotated[
        float | None,
        Field(
            description="spread (percentage points, 90th percentile) the same models give "
            "patients not using kratom, where the assumption cannot act; null when not measured"
        ),
    ] = None


@dataclass(frozen=True)
class Prediction:
    """One calibrated risk and its band under the service's policy, when it holds (the week of
    treatment) and which landmark model answered."""

    outcome: Outcome
    description: str
    probability: Annotated[float, Field(ge=0, le=1, description="calibrated probability")]
    band: str
    model: ModelRef
    as_of_week: Annotated[
        int,
        Field(description="week of treatment of the assessment (0: treatment entry)"),
    ] = field(kw_only=True)
    landmark_week: Annotated[
        int | None,
        Field(
            description="the trained landmark week whose model answered (the latest at or "
            "before as_of_week); null for a model without landmarks"
        ),
    ] = field(kw_only=True)
    as_of: Annotated[str, Field(description="the same in words")] = field(kw_only=True)
    probability_range: Annotated[
        ProbabilityRange | None,
        Field(
            description="model-uncertainty range of the probability; null when the model "
            "carries none (nothing then claims a range)"
        ),
    ] = field(kw_only=True, default=None)
    scenario_answer: Annotated[
        ScenarioAnswer | None,
        Field(
            description="the risk under the synthetic cohort's other scenarios of kratom's "
            "effects, and whether that assumption drives it; null when the model carries no "
            "scenario models (unknown, not 'no difference')"
        ),
    ] = field(kw_only=True, default=None)


@dataclass(frozen=True)
class Risk(Prediction):
    """A prediction with the clinical variables that drive it most."""

    drivers: list[Driver]


@dataclass(frozen=True)
class GuidelineFlags:
    ctcae: Annotated[
        list[CtcaeGrade], Field(description="CTCAE v5.0 grades (abnormal-baseline rule applied)")
    ]
    r_ratio: Annotated[float, Field(description="(ALT/ULN)/(ALP/ULN)")]
    injury_pattern: Literal["hepatocellular", "mixed", "cholestatic"] | None
    hys_law: Annotated[
        bool,
        Field(
            description="Hy's law laboratory criteria met in these labs: ALT or AST >= 3x ULN, "
            "bilirubin > 2x ULN, ALP < 2x ULN"
        ),
    ]
    stopping_rules: Annotated[
        list[RuleResult],
        Field(
            description="FDA 2009 DILI stopping rules, each test judged against its baseline "
            "when the baseline is above ULN (the reason says which)"
        ),
    ]
    stop_recommended: Annotated[
        bool,
        Field(
            description="a stopping rule is met; false is not an all-clear when a rule could "
            "not be evaluated: read stop_recommendation"
        ),
    ]
    cholestatic_trigger: Annotated[
        RuleResult,
        Field(
            description="ALP >= 2x or total bilirubin > 2x its reference (ULN, or an abnormal "
            "baseline): cholestatic injury, which the FDA rules (ALT/AST) miss"
        ),
    ]
    stop_recommendation: Annotated[
        StopRecommendation,
        Field(description="the stopping rules together, naming any that could not be evaluated"),
    ]


@dataclass(frozen=True)
class DoseScenario:
    label: str
    dose_g_day: float
    liver_probability: float
    relapse_probability: float
    liver_change_points: float
    relapse_change_points: float


@dataclass(frozen=True)
class BenefitHarm:
    current_dose_g_day: float
    liver_probability: float
    relapse_probability: float
    scenarios: list[DoseScenario]
    note: Annotated[
        str,
        Field(
            description="what the scenarios are and are not: the models' predictions on the "
            "edited record, not the effect of changing the dose, with how far they missed the "
            "true effect in the synthetic test set"
        ),
    ]


@dataclass(frozen=True)
class UnknownInput:
    """An input the request left out. It is unknown, not "no" or 0: each risk is averaged over
    its plausible values given the rest of the record, and the range says how far knowing it
    could move the risk."""

    variable: Annotated[str, Field(description="the patient-record field left out")]
    label: str
    liver_range: Annotated[
        list[float],
        Field(
            description="lowest and highest liver risk (probabilities) over the field's "
            "plausible values given the rest of the record; empty if the model does not use it"
        ),
    ]
    relapse_range: Annotated[list[float], Field(description="the same for the relapse risk")]
    liver_change_points: Annotated[
        float, Field(description="width of liver_range in percentage points")
    ]
    relapse_change_points: Annotated[
        float, Field(description="width of relapse_range in percentage points")
    ]
    text: str


@dataclass(frozen=True)
class Assessment:
    """Both risks with their drivers, the guideline flags, monitoring and the dose what-ifs,
    and the inputs that were unknown."""

    risks: list[Risk]
    flags: GuidelineFlags
    monitoring: MonitoringSchedule
    benefit_harm: BenefitHarm
    unknown_inputs: Annotated[
        list[UnknownInput],
        Field(
            description="inputs left out, largest possible change first: each risk is averaged "
            "over their plausible values, never read as 'no' or 0"
        ),
    ]


@dataclass(frozen=True)
class FeatureContribution:
    feature: str
    label: str
    value: float | str | None
    log_odds: float
    probability: float


@dataclass(frozen=True)
class GroupContribution:
    variable: str
    label: str
    members: list[str]
    log_odds: float
    probability: float


@dataclass(frozen=True)
class ModelExplanation:
    """Every input's exact contribution to one model's answer, and the same by variable."""

    outcome: Outcome
    model: ModelRef
    base_log_odds: Annotated[float, Field(description="calibrated log-odds of the average patient")]
    base_probability: float
    log_odds: Annotated[float, Field(description="base_log_odds + sum of contributions.log_odds")]
    probability: float
    contributions: Annotated[
        list[FeatureContribution], Field(description="every model input, exact TreeSHAP")
    ]
    grouped: Annotated[
        list[GroupContribution], Field(description="the same, summed by clinical variable")
    ]
    as_of_week: Annotated[int, Field(description="week of treatment of the explained record")]
    landmark_week: Annotated[
        int | None, Field(description="the landmark week whose model answered")
    ]
    as_of: str
