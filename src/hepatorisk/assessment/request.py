"""The patient-record contract: what a caller tells about one patient, validated and converted.

Every adapter (the JSON API, the FHIR mapping) produces an ``AssessRequest``; ``to_input`` turns
it into the model's record columns and the liver panel the guideline rules read. Unknown fields,
values out of range, wrong units and unknown categories are refused, naming the field and what
is allowed; so are values of the wrong type (strict types, ``fields.StrictModel``: ``"48"`` or
``true`` for a number, ``1`` or ``"no"`` for a boolean) and non-finite numbers.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from hepatorisk.assessment.course import Course
from hepatorisk.assessment.fields import COLUMNS as _COL
from hepatorisk.assessment.fields import Integer as _Int
from hepatorisk.assessment.fields import OptionalInteger as _OptInt
from hepatorisk.assessment.fields import StrictModel as _Strict
from hepatorisk.assessment.fields import levels as _levels
from hepatorisk.assessment.fields import ranged as _ranged
from hepatorisk.assessment.inputs import RECORD_COLUMNS, LiverPanel, PatientInput
from hepatorisk.assessment.lab_results import LAB_COLUMNS, Bilirubin, Labs
from hepatorisk.clinical.monitoring import KratomExposure
from hepatorisk.clinical.stopping_rules import Symptoms as SymptomsIn
from hepatorisk.cohorts.history import LABS as LIVER_LABS

__all__ = ["AssessRequest", "Bilirubin", "Labs"]

Sex = _levels("sex")
Race = _levels("race_ethnicity")
Opioid = _levels("primary_opioid")
Moud = _levels("moud_arm")
Screen = _levels("uds_opioid_entry")
Product = _levels("kratom_product")


class Demographics(_Strict):
    age: _Int = _ranged("age")
    sex: Sex  # type: ignore[valid-type]  # Literal of the contract
    race_ethnicity: Race | None = None  # type: ignore[valid-type]  # Literal of the contract
    bmi: float | None = _ranged("bmi", default=None)
    diabetes: bool | None = None


class Hepatitis(_Strict):
    hcv_antibody: bool | None = Field(None, description="anti-HCV positive")
    hbv_surface_antigen: bool | None = Field(None, description="HBsAg positive")
    hiv: bool | None = None


class OpioidUse(_Strict):
    primary_opioid: Opioid | None = None  # type: ignore[valid-type]  # Literal of the contract
    heroin_days_30: _OptInt = _ranged("heroin_days_30", default=None)
    injection_drug_use: bool | None = None
    cocaine_use: bool | None = None
    prior_treatments: _OptInt = _ranged("prior_treatments", default=None)
    recent_opioid_urine_screen: Screen | None = None  # type: ignore[valid-type]  # Literal of the contract


class Social(_Strict):
    stable_housing: bool | None = None
    employed: bool | None = None


class Treatment(_Strict):
    moud: Moud = Field(  # type: ignore[valid-type]  # a Literal built from the contract
        description="medication for OUD"
    )
    cows: _OptInt = _ranged("cows_entry", default=None)
    craving: float | None = _ranged("craving_entry", default=None)
    chronic_pain: bool | None = Field(
        None, description="chronic pain (a common reason for taking kratom); leave out if unknown"
    )


# weeks of kratom use and since the last dose increase: up to 20 years
MAX_KRATOM_WEEKS = 1040
_USE_ONLY = ("use_weeks", "weeks_since_dose_increase")  # left out when product is 'none'


def _no_dose_without_product_schema(schema: dict[str, Any]) -> None:
    """The 'no dose or duration without a product' rules in the JSON schema, so clients see
    them: with product 'none' the dose is 0 and the durations of use are left out (or null)."""
    products = [p for p in _COL["kratom_product"].allowed or () if p != "none"]
    schema["anyOf"] = [
        {"properties": {"product": {"enum": products}}},
        {
            "properties": {
                "dose_g_day": {"maximum": 0},
                **{name: {"type": "null"} for name in _USE_ONLY},
            }
        },
    ]


class Kratom(_Strict):
    model_config = ConfigDict(json_schema_extra=_no_dose_without_product_schema)

    product: Product  # type: ignore[valid-type]  # Literal of the contract
    dose_g_day: float = _ranged("kratom_dose_g_day")
    mitragynine_mg_per_g: float | None = _ranged("mitragynine_mg_per_g", default=None)
    use_weeks: _OptInt = Field(
        None,
        ge=0,
        le=MAX_KRATOM_WEEKS,
        description="weeks of kratom use so far (the liver-test schedule counts kratom's 1-8 "
        "week injury latency from the start or the last dose increase); leave out if unknown",
    )
    weeks_since_dose_increase: _OptInt = Field(
        None,
        ge=0,
        le=MAX_KRATOM_WEEKS,
        description="weeks since the daily dose was last increased; leave out if unknown or "
        "never increased",
    )

    @field_validator("dose_g_day")
    @classmethod
    def _no_dose_without_product(cls, dose: float, info: ValidationInfo) -> float:
        if info.data.get("product") == "none" and dose > 0:
            raise ValueError("must be 0 when product is 'none'")
        return dose

    @field_validator(*_USE_ONLY)
    @classmethod
    def _no_duration_without_product(cls, weeks: int | None, info: ValidationInfo) -> int | None:
        if info.data.get("product") == "none" and weeks is not None:
            raise ValueError("must be left out when product is 'none'")
        return weeks

    def exposure(self) -> KratomExposure:
        """Kratom taken now (a product and a dose above 0), and for how long at this dose."""
        return KratomExposure(
            taking=self.product != "none" and self.dose_g_day > 0,
            use_weeks=self.use_weeks,
            weeks_since_dose_increase=self.weeks_since_dose_increase,
        )


class Medications(_Strict):
    acetaminophen: bool | None = Field(None, description="regular acetaminophen")
    statin: bool | None = None
    other_hepatotoxic: bool | None = None
    cyp_interacting: bool | None = Field(None, description="CYP3A4/CYP2D6-interacting drug")


class LiverHistory(_Strict):
    """Optional history: pre-treatment values (CTCAE abnormal-baseline rule) and duration."""

    baseline_alt: float | None = _ranged("alt_u_l", default=None)
    baseline_ast: float | None = _ranged("ast_u_l", default=None)
    baseline_alp: float | None = _ranged("alp_u_l", default=None)
    baseline_bilirubin: Bilirubin | None = None
    days_alt_or_ast_above_5x_uln: _OptInt = Field(None, ge=0, le=3650)


class Symptoms(_Strict):
    """Symptoms of the FDA 2009 fourth stopping rule; leave out what was not asked."""

    fatigue: bool | None = None
    nausea_or_vomiting: bool | None = None
    ruq_pain: bool | None = Field(None, description="right-upper-quadrant pain or tenderness")
    fever: bool | None = None
    rash: bool | None = None
    eosinophils_percent: float | None = Field(None, ge=0, le=100)


class AssessRequest(_Strict):
    """One patient at the point of care. Optional sections and values may be left out."""

    patient_ref: str | None = Field(
        None, max_length=128, description="your reference; stored only as a keyed hash"
    )
    demographics: Demographics
    treatment: Treatment
    kratom: Kratom
    labs: Labs
    hepatitis: Hepatitis = Hepatitis()
    alcohol_audit_c: _OptInt = _ranged("audit_c", default=None)
    opioid_use: OpioidUse = OpioidUse()
    social: Social = Social()
    medications: Medications = Medications()
    history: LiverHistory = LiverHistory()
    symptoms: Symptoms = Symptoms()
    course: Course | None = Field(
        None,
        description="the treatment course so far (dated panels, weekly visits, kratom doses): "
        "places the assessment at week N of treatment; left out, the assessment is at "
        "treatment entry (week 0). With a course, the labs section is the latest panel and "
        "the other sections describe the patient at treatment entry",
    )

    def to_input(self) -> PatientInput:
        """Convert to the internal record (model columns, US units) and liver panel."""
        d, t, k, lab, o, m = (
            self.demographics,
            self.treatment,
            self.kratom,
            self.labs,
            self.opioid_use,
            self.medications,
        )
        bili, bili_uln = lab.bilirubin.mg_dl()
        assert bili_uln is not None  # enforced by Labs
        record: dict[str, Any] = {
            "age": d.age, "sex": d.sex, "race_ethnicity": d.race_ethnicity, "bmi": d.bmi,
            "diabetes": d.diabetes, "hcv_antibody": self.hepatitis.hcv_antibody,
            "hbv_surface_antigen": self.hepatitis.hbv_surface_antigen, "hiv": self.hepatitis.hiv,
            "audit_c": self.alcohol_audit_c, "injection_drug_use": o.injection_drug_use,
            "primary_opioid": o.primary_opioid, "heroin_days_30": o.heroin_days_30,
            "cocaine_use": o.cocaine_use, "stable_housing": self.social.stable_housing,
            "employed": self.social.employed, "prior_treatments": o.prior_treatments,
            "moud_arm": t.moud, "uds_opioid_entry": o.recent_opioid_urine_screen,
            "cows_entry": t.cows, "craving_entry": t.craving, "kratom_product": k.product,
            "kratom_dose_g_day": k.dose_g_day, "mitragynine_mg_per_g": k.mitragynine_mg_per_g,
            "med_acetaminophen": m.acetaminophen, "med_statin": m.statin,
            "med_other_hepatotoxic": m.other_hepatotoxic,
            "med_cyp_interacting": m.cyp_interacting,
            "alt_u_l": lab.alt.value, "alt_uln_u_l": lab.alt.uln,
            "alp_u_l": lab.alp.value, "alp_uln_u_l": lab.alp.uln,
            "bilirubin_mg_dl": bili, "bilirubin_uln_mg_dl": bili_uln,
        }  # fmt: skip
        # cohort v2 columns (issue 12): mapped only where the model record has them
        for name, value in (("chronic_pain", t.chronic_pain), ("kratom_use_weeks", k.use_weeks)):
            if name in RECORD_COLUMNS:
                record[name] = value
        for name, lab_value, limit in (
            ("ast", lab.ast, "uln"), ("ggt", lab.ggt, "uln"), ("albumin", lab.albumin, "lln"),
            ("inr", lab.inr, "uln"), ("platelets", lab.platelets, "lln"),
        ):  # fmt: skip
            value_col, limit_col = LAB_COLUMNS[name]
            record[value_col] = None if lab_value is None else lab_value.value
            record[limit_col] = None if lab_value is None else getattr(lab_value, limit)
        if self.course is None:
            return PatientInput(
                record=record,
                liver=self._panel(bili, bili_uln),
                patient_ref=self.patient_ref,
                exposure=k.exposure(),
            )
        latest = {"alt": lab.alt.value, "alp": lab.alp.value, "bilirubin": bili}
        if lab.ast is not None:
            latest["ast"] = lab.ast.value
        history = self.course.history(latest)
        entry = history.entry_panel
        later = self.course.week_of(self.course.lab_date) > 0
        given = {c for c, v in record.items() if v is not None}
        if later:
            # the record's labs are entry values: the entry panel's, unknown without one
            for name, column in LIVER_LABS.items():
                record[column] = entry.get(name)
            for name in ("ggt", "albumin", "inr", "platelets"):
                record[LAB_COLUMNS[name][0]] = None  # latest, not entry, values: unknown
        if "kratom_use_weeks" in RECORD_COLUMNS and k.use_weeks is None:
            record["kratom_use_weeks"] = self.course.kratom_weeks(self.course.treatment_start)
        return PatientInput(
            record=record,
            liver=self._panel(bili, bili_uln, entry if later else None),
            patient_ref=self.patient_ref,
            exposure=self.course.exposure(
                k.dose_g_day if k.product != "none" else 0.0,
                k.use_weeks,
                k.weeks_since_dose_increase,
            ),
            history=history,
            entry_unknown=tuple(sorted(c for c in given if record.get(c) is None)),
        )

    def _panel(
        self, bili: float, bili_uln: float, entry: dict[str, float] | None = None
    ) -> LiverPanel:
        lab, h, s = self.labs, self.history, self.symptoms
        baseline = {"alt": h.baseline_alt, "ast": h.baseline_ast, "alp": h.baseline_alp}
        if h.baseline_bilirubin is not None:
            baseline["bilirubin"] = h.baseline_bilirubin.mg_dl()[0]
        for name, value in (entry or {}).items():  # the course's entry panel, if not given
            if baseline.get(name) is None:
                baseline[name] = value
        return LiverPanel(
            alt_xuln=lab.alt.value / lab.alt.uln,
            ast_xuln=None if lab.ast is None else lab.ast.value / lab.ast.uln,
            alp_xuln=lab.alp.value / lab.alp.uln,
            bilirubin_xuln=bili / bili_uln,
            inr=None if lab.inr is None else lab.inr.value,
            values={
                "alt": lab.alt.value,
                "alp": lab.alp.value,
                "bilirubin": bili,
                **({} if lab.ast is None else {"ast": lab.ast.value}),
            },
            ulns={
                "alt": lab.alt.uln,
                "alp": lab.alp.uln,
                "bilirubin": bili_uln,
                **({} if lab.ast is None else {"ast": lab.ast.uln}),
            },
            baseline={k: v for k, v in baseline.items() if v is not None},
            days_above_5x_uln=h.days_alt_or_ast_above_5x_uln,
            symptoms=SymptomsIn(**s.model_dump()),
        )
