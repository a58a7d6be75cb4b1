"""Data contracts of the CTN-0094 cohort tables (ranges from the published questionnaires)."""

from __future__ import annotations

from hepatorisk.cohorts.ctn0094.features import (
    ASI_LITE,
    BASELINE_UDS,
    BASELINE_WINDOW_START,
    PSYCH_FLAGS,
    RBS_DRUGS,
    TLFB_GROUPS,
    TRIALS,
    UDS_DRUGS,
)
from hepatorisk.contracts import Column, TableSchema

__all__ = ["OUTCOMES", "PATIENTS", "TABLES", "UDS_WORDS", "WEEKLY_UDS"]

ARMS = (
    "Methadone",
    "Outpatient BUP",
    "Outpatient BUP + EMM",
    "Outpatient BUP + SMM",
    "Inpatient BUP",
    "Inpatient NR-NTX",
)
_WEEK_STATUS = ("positive", "negative", "mixed", "missing")
_WHO = Column("who", "int", "CTN-0094 patient id (joins every public.ctn0094data table)", min=1)


def _flag(name: str, description: str) -> Column:
    return Column(name, "bool", description, nullable=True)


def _days(name: str, description: str, nullable: bool = True) -> Column:
    return Column(
        name,
        "int" if name.startswith("tlfb") else "float",
        description,
        "days",
        nullable=nullable,
        min=0,
        max=30,
    )


PATIENTS = TableSchema(
    name="ctn0094_patients",
    key=("who",),
    description="randomized patients: identifiers, entry features and weeks 1-3 screens",
    columns=(
        _WHO,
        Column("trial", "category", "source trial", allowed=tuple(TRIALS.values())),
        Column("arm", "category", "first randomized treatment arm", allowed=ARMS),
        Column("site", "str", "masked site code (site_masked)"),
        Column(
            "days_consent_to_randomization",
            "int",
            "study day of randomization",
            "days",
            min=0,
            max=200,
        ),
        Column("age", "float", "age at consent", "years", nullable=True, min=18, max=90),
        _flag("is_male", "male sex"),
        _flag("is_hispanic", "Hispanic ethnicity"),
        Column(
            "race",
            "category",
            "race (Refused/missing -> missing)",
            nullable=True,
            allowed=("Black", "White", "Other"),
        ),
        Column(
            "job",
            "category",
            "employment",
            nullable=True,
            allowed=("Full Time", "Part Time", "Student", "Unemployed", "Other"),
        ),
        _flag("is_living_stable", "stable living situation"),
        Column(
            "education",
            "category",
            "education",
            nullable=True,
            allowed=("Less than HS", "HS/GED", "More than HS"),
        ),
        Column(
            "marital",
            "category",
            "marital status",
            nullable=True,
            allowed=("Married or Partnered", "Never married", "Separated/Divorced/Widowed"),
        ),
        _flag("asi_iv_use_history", "ASI: ever used drugs intravenously"),
        *(_days(f"rbs_{d}_days", f"RBS: days of {d} use, past 30 days") for d in RBS_DRUGS),
        _days("rbs_iv_days", "RBS-IV: days of injection, past 30 days"),
        _days(
            "rbs_iv_heroin_days",
            "RBS-IV: days of heroin injection, past 30 days (0 if no injection at all)",
        ),
        _flag("rbs_iv_shared_needle", "RBS-IV: shared needles"),
        *(
            _days(f"tlfb_{g}_days", f"TLFB: days of {g} use, days -30..-1 before consent")
            for g in TLFB_GROUPS.values()
        ),
        *(
            Column(
                f"uds_{d}_positive_entry",
                "bool",
                f"urine screen positive for {d} on or before the randomization day",
            )
            for d in UDS_DRUGS.values()
        ),
        Column(
            "uds_baseline_day",
            "int",
            "study day of the baseline urine sample (first one from day -30 to randomization)",
            "days",
            nullable=True,
            min=BASELINE_WINDOW_START,
            max=200,
        ),
        *(
            _flag(
                f"uds_{d}_baseline",
                f"baseline urine sample positive for {d} (missing: no sample by randomization)",
            )
            for d in BASELINE_UDS.values()
        ),
        *(_flag(f, f"psychiatric history: {f}") for f in PSYCH_FLAGS),
        *(_flag(f"asi_{n}", f"ASI-Lite: {n} (Not answered/Missing -> missing)") for n in ASI_LITE),
        _flag("is_smoker", "Fagerstrom: current smoker"),
        Column(
            "ftnd",
            "int",
            "Fagerstrom Test for Nicotine Dependence",
            "points",
            nullable=True,
            min=0,
            max=10,
        ),
        Column(
            "pain_entry",
            "category",
            "pain (SF-36/EQ-5D) if assessed by randomization",
            nullable=True,
            allowed=("none", "mild_to_moderate", "severe"),
        ),
        Column(
            "withdrawal_entry",
            "int",
            "last COWS/SOWS-derived withdrawal grade by randomization",
            "grade",
            nullable=True,
            min=0,
            max=3,
        ),
        *(
            Column(
                f"uds_week{w}",
                "category",
                f"opioid screen, treatment week {w}",
                allowed=_WEEK_STATUS,
            )
            for w in (1, 2, 3)
        ),
        Column(
            "uds_weeks1_3_not_negative",
            "int",
            "weeks 1-3 positive, mixed or missing",
            "weeks",
            min=0,
            max=3,
        ),
    ),
)

OUTCOMES = TableSchema(
    name="ctn0094_outcomes",
    key=("who",),
    description="relapse outcomes (CTNote RsE/RsT_ctnNinetyFour_2023; Luo et al. 2024)",
    columns=(
        _WHO,
        Column(
            "relapse_ctn0094",
            "bool",
            "CTNote RsE_ctnNinetyFour_2023: 4 consecutive weeks positive or missing",
        ),
        Column(
            "relapse_ctn0094_week",
            "int",
            "CTNote RsT_ctnNinetyFour_2023 (censoring time when no event)",
            "weeks",
            min=1,
            max=60,
        ),
        Column(
            "relapse_12w",
            "bool",
            "Luo 2024: 4 consecutive weeks missing or positive for "
            "non-prescribed opioids by week 12",
        ),
        Column(
            "relapse_12w_week",
            "int",
            "first week of the qualifying run",
            "weeks",
            nullable=True,
            min=1,
            max=9,
        ),
    ),
)

_WORD = "[+-*o_] per week: positive, negative, mixed, missing, not required"
UDS_WORDS = TableSchema(
    name="ctn0094_uds_words",
    key=("who",),
    description="weekly opioid-screen words (ctn0094extra and CTNote derivations)",
    columns=(
        _WHO,
        Column("baseline", "str", f"weeks before treatment, ctn0094extra Baseline; {_WORD}"),
        Column("phase_1", "str", f"treatment weeks, ctn0094extra Phase_1; {_WORD}"),
        Column("phase_2", "str", "CTN-0030 phase 2 weeks, ctn0094extra Phase_2 ('' if none)"),
        Column(
            "phase_2_start_week",
            "int",
            "treatment week of the CTN-0030 second randomization",
            "weeks",
            nullable=True,
            min=1,
            max=60,
        ),
        Column("ctnote", "str", "CTNote usePatternUDS derivation (whole follow-up)"),
    ),
)

WEEKLY_UDS = TableSchema(
    name="ctn0094_weekly_uds",
    key=("who", "week"),
    description="one row per patient and study week (ctn0094extra derivation)",
    columns=(
        _WHO,
        Column(
            "week",
            "int",
            "study week; week 1 starts the day after randomization",
            "weeks",
            min=-30,
            max=60,
        ),
        Column("phase", "category", "trial phase", allowed=("baseline", "phase_1", "phase_2")),
        Column("symbol", "category", "pattern symbol", allowed=("+", "-", "*", "o", "_")),
        Column(
            "status",
            "category",
            "opioid screen status of the week",
            allowed=(*_WEEK_STATUS, "not_required"),
        ),
        Column(
            "samples",
            "int",
            "urine samples with a uds_temp record that week (not used by the published words)",
            min=0,
            max=50,
        ),
    ),
)

TABLES = {
    "patients": PATIENTS,
    "outcomes": OUTCOMES,
    "uds_words": UDS_WORDS,
    "weekly_uds": WEEKLY_UDS,
}
