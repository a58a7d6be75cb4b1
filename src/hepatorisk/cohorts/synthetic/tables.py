"""Data contracts of the synthetic cohort's four tables."""

from __future__ import annotations

from typing import Final

from hepatorisk.contracts import Column as C  # noqa: N817 - a table of columns reads better
from hepatorisk.contracts import TableSchema

__all__ = ["LATENT", "OUTCOMES", "OUTCOME_NAMES", "PATIENTS", "TABLES", "VISITS"]

_YES_NO: Final = "bool"
_UDS = ("positive", "negative", "missing")
_PATTERNS = ("hepatocellular", "mixed", "cholestatic")

PATIENTS = TableSchema(
    name="patients",
    key=("patient_id",),
    description="One row per patient: the baseline record available at treatment entry.",
    columns=(
        C("patient_id", "str", "synthetic identifier"),
        C("age", "int", "age at entry", "years", min=18, max=90),
        C("sex", "category", "sex at birth", allowed=("female", "male")),
        C(
            "race_ethnicity",
            "category",
            "race and ethnicity",
            allowed=("non_hispanic_white", "hispanic", "non_hispanic_black", "other"),
        ),
        C("bmi", "float", "body-mass index", "kg/m2", min=12, max=80),
        C("diabetes", _YES_NO, "diabetes mellitus"),
        C("hcv_antibody", _YES_NO, "anti-HCV positive"),
        C("hbv_surface_antigen", _YES_NO, "HBsAg positive"),
        C("hiv", _YES_NO, "HIV positive"),
        C("audit_c", "int", "AUDIT-C alcohol score", "points", min=0, max=12),
        C("injection_drug_use", _YES_NO, "injects drugs", nullable=True),
        C(
            "primary_opioid",
            "category",
            "main opioid used",
            allowed=("heroin", "fentanyl", "prescription"),
        ),
        C(
            "heroin_days_30",
            "int",
            "days of heroin/illicit opioid use in the past 30",
            "days",
            min=0,
            max=30,
        ),
        C("cocaine_use", _YES_NO, "cocaine or stimulant use in the past 30 days"),
        C("stable_housing", _YES_NO, "stably housed", nullable=True),
        C("employed", _YES_NO, "employed full or part time", nullable=True),
        C("prior_treatments", "int", "prior OUD treatment episodes", "episodes", min=0, max=50),
        C("chronic_pain", _YES_NO, "pain reported at entry", nullable=True),
        C(
            "moud_arm",
            "category",
            "medication for OUD",
            allowed=("buprenorphine", "methadone", "xr_naltrexone", "none"),
        ),
        C(
            "uds_opioid_entry",
            "category",
            "opioid urine screen at entry",
            allowed=("positive", "negative"),
        ),
        C(
            "cows_entry",
            "int",
            "Clinical Opiate Withdrawal Scale at entry",
            "points",
            min=0,
            max=48,
        ),
        C("craving_entry", "float", "opioid craving at entry", "VAS 0-100", min=0, max=100),
        C(
            "kratom_product",
            "category",
            "kratom product used",
            allowed=("none", "leaf_powder", "extract", "tablet"),
        ),
        C("kratom_dose_g_day", "float", "daily kratom product dose", "g/day", min=0, max=100),
        C(
            "mitragynine_mg_per_g",
            "float",
            "mitragynine content of the product",
            "mg/g",
            nullable=True,
            min=0,
            max=500,
        ),
        C(
            "kratom_use_weeks",
            "int",
            "weeks of kratom use before entry (users)",
            "weeks",
            nullable=True,
            min=0,
            max=1040,
        ),
        C("med_acetaminophen", _YES_NO, "regular acetaminophen"),
        C("med_statin", _YES_NO, "statin"),
        C("med_other_hepatotoxic", _YES_NO, "other hepatotoxic medication"),
        C("med_cyp_interacting", _YES_NO, "CYP3A4/CYP2D6-interacting medication"),
        C("alt_u_l", "float", "ALT (LOINC 1742-6)", "U/L", min=1, max=10000),
        C("ast_u_l", "float", "AST (LOINC 1920-8)", "U/L", min=1, max=10000),
        C("alp_u_l", "float", "alkaline phosphatase (LOINC 6768-6)", "U/L", min=1, max=5000),
        C("bilirubin_mg_dl", "float", "total bilirubin (LOINC 1975-2)", "mg/dL", min=0.01, max=60),
        C("ggt_u_l", "float", "GGT (LOINC 2324-2)", "U/L", min=1, max=10000, nullable=True),
        C("albumin_g_dl", "float", "albumin (LOINC 1751-7)", "g/dL", min=1, max=7, nullable=True),
        C("inr", "float", "INR (LOINC 6301-6)", "ratio", min=0.5, max=10, nullable=True),
        C(
            "platelets_10e9_l",
            "float",
            "platelets (LOINC 777-3)",
            "10^9/L",
            min=1,
            max=2000,
            nullable=True,
        ),
        C(
            "alt_uln_u_l",
            "float",
            "lab ALT upper limit of normal (sex-specific)",
            "U/L",
            min=5,
            max=100,
        ),
        C("ast_uln_u_l", "float", "lab AST upper limit of normal", "U/L", min=5, max=100),
        C("alp_uln_u_l", "float", "lab ALP upper limit of normal", "U/L", min=20, max=300),
        C(
            "bilirubin_uln_mg_dl",
            "float",
            "lab bilirubin upper limit of normal",
            "mg/dL",
            min=0.3,
            max=3,
        ),
        C("ggt_uln_u_l", "float", "lab GGT upper limit of normal", "U/L", min=5, max=200),
        C("albumin_lln_g_dl", "float", "lab albumin lower limit of normal", "g/dL", min=2, max=5),
        C("inr_uln", "float", "lab INR upper limit of normal", "ratio", min=0.8, max=2),
        C(
            "platelets_lln_10e9_l",
            "float",
            "lab platelet lower limit of normal",
            "10^9/L",
            min=50,
            max=300,
        ),
    ),
)

_LAB_VALUES = tuple(
    C(col.name, col.kind, col.description, col.unit, nullable=True, min=col.min, max=col.max)
    for col in PATIENTS.columns
    if col.name
    in (
        "alt_u_l",
        "ast_u_l",
        "alp_u_l",
        "bilirubin_mg_dl",
        "ggt_u_l",
        "albumin_g_dl",
        "inr",
        "platelets_10e9_l",
    )
)

VISITS = TableSchema(
    name="visits",
    key=("patient_id", "week"),
    description="One row per patient-week; labs only on the protocol schedule.",
    columns=(
        C("patient_id", "str", "synthetic identifier"),
        C("week", "int", "week of treatment (0 = entry)", "weeks", min=0, max=104),
        C("attended", _YES_NO, "attended the weekly visit"),
        C("uds_opioid", "category", "opioid urine drug screen", allowed=_UDS),
        C(
            "kratom_dose_g",
            "float",
            "self-reported daily kratom dose that week",
            "g/day",
            nullable=True,
            min=0,
            max=100,
        ),
        C(
            "cows",
            "int",
            "Clinical Opiate Withdrawal Scale",
            "points",
            nullable=True,
            min=0,
            max=48,
        ),
        C("craving", "float", "opioid craving", "VAS 0-100", nullable=True, min=0, max=100),
        *_LAB_VALUES,
        C(
            "jaundice",
            _YES_NO,
            "jaundice reported or seen (unknown if not attended)",
            nullable=True,
        ),
        C("fatigue", _YES_NO, "fatigue", nullable=True),
        C("ruq_pain", _YES_NO, "right-upper-quadrant pain", nullable=True),
        C("nausea", _YES_NO, "nausea or vomiting", nullable=True),
    ),
)

_NEW_ONSET = (
    "new-onset CTCAE v5 grade >= 2 ALT, AST or ALP at an attended post-baseline draw (against the"
    " baseline when it is abnormal) by week {w}; <NA> if prevalent"
)
_SEVERE = (
    "new-onset elevation with bilirubin > 2x its reference or INR > 1.5 in the same draw by week"
    " {w}; <NA> if prevalent"
)

OUTCOMES = TableSchema(
    name="outcomes",
    key=("patient_id",),
    description="Outcomes and each patient's true probability given the baseline record.",
    columns=(
        C("patient_id", "str", "synthetic identifier"),
        C(
            "prevalent_liver_abnormality",
            _YES_NO,
            "entry ALT, AST or ALP already grade >= 2: not at risk for the new-onset outcome",
        ),
        C("liver_event_12w", _YES_NO, _NEW_ONSET.format(w=12), nullable=True),
        C("liver_event_24w", _YES_NO, _NEW_ONSET.format(w=24), nullable=True),
        C("severe_liver_12w", _YES_NO, _SEVERE.format(w=12), nullable=True),
        C("severe_liver_24w", _YES_NO, _SEVERE.format(w=24), nullable=True),
        C(
            "alt_gt3x_uln_12w",
            _YES_NO,
            "v1 label for comparison: ALT > 3x ULN at an attended draw by week 12, any baseline",
        ),
        C(
            "liver_onset_day",
            "float",
            "day the elevation behind the first new-onset event began",
            "days",
            nullable=True,
            min=0,
            max=800,
        ),
        C(
            "alt_peak_xuln",
            "float",
            "peak post-baseline ALT",
            "x ULN",
            nullable=True,
            min=0,
            max=500,
        ),
        C(
            "alp_peak_xuln",
            "float",
            "peak post-baseline ALP",
            "x ULN",
            nullable=True,
            min=0,
            max=500,
        ),
        C(
            "bili_peak_xuln",
            "float",
            "peak post-baseline total bilirubin",
            "x ULN",
            nullable=True,
            min=0,
            max=500,
        ),
        C(
            "r_ratio_onset",
            "float",
            "(ALT/ULN)/(ALP/ULN) at the first new-onset event",
            "ratio",
            nullable=True,
            min=0,
            max=1000,
        ),
        C(
            "injury_pattern",
            "category",
            "pattern by R ratio at the event",
            nullable=True,
            allowed=_PATTERNS,
        ),
        C(
            "hys_law",
            _YES_NO,
            "Hy's law laboratory criteria (ALT or AST) met at a post-baseline draw",
        ),
        C("relapse_12w", _YES_NO, "4 consecutive positive-or-missing weekly screens by week 12"),
        C("relapse_24w", _YES_NO, "4 consecutive positive-or-missing weekly screens by week 24"),
        C(
            "p_liver_true",
            "float",
            "true P(liver_event_12w | baseline record); <NA> if prevalent",
            nullable=True,
            min=0,
            max=1,
        ),
        C(
            "p_liver_24w_true",
            "float",
            "true P(liver_event_24w | baseline record); <NA> if prevalent",
            nullable=True,
            min=0,
            max=1,
        ),
        C("p_relapse_true", "float", "true P(relapse_12w | baseline record)", min=0, max=1),
    ),
)
OUTCOME_NAMES = (
    "liver_event_12w",
    "liver_event_24w",
    "severe_liver_12w",
    "severe_liver_24w",
    "alt_gt3x_uln_12w",
    "relapse_12w",
    "relapse_24w",
)

LATENT = TableSchema(
    name="latent",
    key=("patient_id",),
    description="What the generator knows and a model never sees: for analysis only.",
    columns=(
        C("patient_id", "str", "synthetic identifier"),
        C("nafld", _YES_NO, "fatty liver"),
        C(
            "p_nafld_given_record",
            "float",
            "posterior P(fatty liver | baseline record)",
            min=0,
            max=1,
        ),
        C("true_injection_drug_use", _YES_NO, "injects drugs (also when not recorded)"),
        C("true_stable_housing", _YES_NO, "stably housed (also when not recorded)"),
        C("true_employed", _YES_NO, "employed (also when not recorded)"),
        C("true_chronic_pain", _YES_NO, "pain at entry (also when not recorded)"),
        C("cows_need", "float", "withdrawal score without the kratom taken at entry", "points"),
        C("craving_need", "float", "craving without the kratom taken at entry", "VAS"),
        C("liver_susceptibility", "float", "idiosyncratic susceptibility (standard normal)"),
        C("kratom_reaction", _YES_NO, "kratom liver reaction occurred"),
        C(
            "kratom_injury_onset_day",
            "float",
            "onset day of the reaction (after entry)",
            "days",
            nullable=True,
            min=0,
        ),
        C(
            "kratom_latency_days",
            "float",
            "days from the last trigger (start or dose increase) to the reaction",
            "days",
            nullable=True,
            min=0,
        ),
        C("kratom_reaction_symptomatic", _YES_NO, "the reaction made the patient stop kratom"),
        C(
            "kratom_dose_increase_week",
            "int",
            "review week of a dose increase",
            "weeks",
            nullable=True,
            min=1,
        ),
        C("background_flare", _YES_NO, "non-kratom transaminase flare occurred"),
        C("flare_onset_day", "float", "onset day of the flare", "days", nullable=True, min=0),
        C(
            "liver_detection_week",
            "int",
            "first attended lab week with a new-onset elevation",
            "weeks",
            nullable=True,
            min=1,
        ),
        C(
            "liver_event_cause",
            "category",
            "source that crossed the threshold first",
            nullable=True,
            allowed=("kratom", "background_flare", "baseline_fluctuation"),
        ),
        C(
            "kratom_stop_week",
            "int",
            "week after which kratom was stopped",
            "weeks",
            nullable=True,
            min=1,
        ),
        C("induction_failed", _YES_NO, "the medication's induction failed"),
        C("dropout_week", "int", "first week out of treatment", "weeks", nullable=True, min=1),
        C("relapse_frailty", "float", "latent weekly-use propensity (log-odds)"),
        C("relapse_week", "int", "week the relapse run completed", "weeks", nullable=True, min=1),
        C("p_relapse_24w_true", "float", "true P(relapse_24w | baseline record)", min=0, max=1),
    ),
)

TABLES = {s.name: s for s in (PATIENTS, VISITS, OUTCOMES, LATENT)}
