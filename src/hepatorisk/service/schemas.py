"""The HTTP contract: request models with units and physiological ranges, and response models.

Ranges come from the synthetic cohort's data contract (``PATIENTS``), so the API accepts exactly
what the models were built on. Unknown fields, values out of range, wrong units and unknown
categories are refused with a 422 naming the field and what is allowed (see ``errors.py``).
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from hepatorisk.clinical.stopping_rules import Symptoms as SymptomsIn
from hepatorisk.clinical.units import BILIRUBIN_UMOL_L_PER_MG_DL, bilirubin_to_mg_dl
from hepatorisk.cohorts.synthetic.tables import PATIENTS
from hepatorisk.service.records import LiverPanel, PatientInput

_COL = {c.name: c for c in PATIENTS.columns}


def _ranged(column: str, *, default: Any = ...) -> Any:
    """A Field bounded by the data contract's range for ``column``, described with its unit."""
    c = _COL[column]
    unit = f" ({c.unit})" if c.unit else ""
    return Field(default, ge=c.min, le=c.max, description=f"{c.description}{unit}")


def _levels(column: str) -> Any:
    return Literal[tuple(_COL[column].allowed or ())]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Sex = _levels("sex")
Race = _levels("race_ethnicity")
Opioid = _levels("primary_opioid")
Moud = _levels("moud_arm")
Screen = _levels("uds_opioid_entry")
Product = _levels("kratom_product")
EnzymeUnit = Literal["U/L", "IU/L"]


class Demographics(_Strict):
    age: int = _ranged("age")
    sex: Sex  # type: ignore[valid-type]
    race_ethnicity: Race | None = None  # type: ignore[valid-type]
    bmi: float | None = _ranged("bmi", default=None)
    diabetes: bool | None = None


class Hepatitis(_Strict):
    hcv_antibody: bool | None = Field(None, description="anti-HCV positive")
    hbv_surface_antigen: bool | None = Field(None, description="HBsAg positive")
    hiv: bool | None = None


class OpioidUse(_Strict):
    primary_opioid: Opioid | None = None  # type: ignore[valid-type]
    heroin_days_30: int | None = _ranged("heroin_days_30", default=None)
    injection_drug_use: bool | None = None
    cocaine_use: bool | None = None
    prior_treatments: int | None = _ranged("prior_treatments", default=None)
    recent_opioid_urine_screen: Screen | None = None  # type: ignore[valid-type]


class Social(_Strict):
    stable_housing: bool | None = None
    employed: bool | None = None


class Treatment(_Strict):
    moud: Moud = Field(description="medication for OUD")  # type: ignore[valid-type]
    cows: int | None = _ranged("cows_entry", default=None)
    craving: float | None = _ranged("craving_entry", default=None)


def _no_dose_without_product_schema(schema: dict[str, Any]) -> None:
    """The 'no dose without a product' rule in the JSON schema, so clients can see it."""
    products = [p for p in _COL["kratom_product"].allowed or () if p != "none"]
    schema["anyOf"] = [
        {"properties": {"product": {"enum": products}}},
        {"properties": {"dose_g_day": {"maximum": 0}}},
    ]


class Kratom(_Strict):
    model_config = ConfigDict(json_schema_extra=_no_dose_without_product_schema)

    product: Product  # type: ignore[valid-type]
    dose_g_day: float = _ranged("kratom_dose_g_day")
    mitragynine_mg_per_g: float | None = _ranged("mitragynine_mg_per_g", default=None)

    @field_validator("dose_g_day")
    @classmethod
    def _no_dose_without_product(cls, dose: float, info: ValidationInfo) -> float:
        if info.data.get("product") == "none" and dose > 0:
            raise ValueError("must be 0 when product is 'none'")
        return dose


class Medications(_Strict):
    acetaminophen: bool | None = Field(None, description="regular acetaminophen")
    statin: bool | None = None
    other_hepatotoxic: bool | None = None
    cyp_interacting: bool | None = Field(None, description="CYP3A4/CYP2D6-interacting drug")


class Alt(_Strict):
    unit: EnzymeUnit
    value: float = _ranged("alt_u_l")
    uln: float = _ranged("alt_uln_u_l")


class Ast(_Strict):
    unit: EnzymeUnit
    value: float = _ranged("ast_u_l")
    uln: float = _ranged("ast_uln_u_l")


class Alp(_Strict):
    unit: EnzymeUnit
    value: float = _ranged("alp_u_l")
    uln: float = _ranged("alp_uln_u_l")


class Ggt(_Strict):
    unit: EnzymeUnit
    value: float = _ranged("ggt_u_l")
    uln: float = _ranged("ggt_uln_u_l")


BilirubinUnit = Literal["mg/dL", "umol/L"]


def _bilirubin_range(column: str, unit: str) -> tuple[float, float]:
    """The range of ``column`` (mg/dL in the data contract) in ``unit``, to the last float.

    Exactly the values whose conversion to mg/dL lies in the contract's range (the conversion is
    monotonic), so the range the OpenAPI document states and the one enforced are the same.
    """
    lo, hi = _COL[column].min or 0.0, _COL[column].max or 0.0
    if unit == "mg/dL":
        return lo, hi
    a, b = lo * BILIRUBIN_UMOL_L_PER_MG_DL, hi * BILIRUBIN_UMOL_L_PER_MG_DL
    while bilirubin_to_mg_dl(a, unit) < lo:
        a = math.nextafter(a, math.inf)
    while bilirubin_to_mg_dl(math.nextafter(a, 0.0), unit) >= lo:
        a = math.nextafter(a, 0.0)
    while bilirubin_to_mg_dl(b, unit) > hi:
        b = math.nextafter(b, 0.0)
    while bilirubin_to_mg_dl(math.nextafter(b, math.inf), unit) <= hi:
        b = math.nextafter(b, math.inf)
    return a, b


_BILIRUBIN_RANGES = {
    (field, unit): _bilirubin_range(column, unit)
    for field, column in (("value", "bilirubin_mg_dl"), ("uln", "bilirubin_uln_mg_dl"))
    for unit in ("mg/dL", "umol/L")
}


def _bilirubin_schema(schema: dict[str, Any]) -> None:
    """The ranges per unit in the JSON schema (one branch per unit)."""

    def bounded(field: str, unit: str) -> dict[str, Any]:
        lo, hi = _BILIRUBIN_RANGES[field, unit]
        return {"type": "number", "minimum": lo, "maximum": hi}

    schema["oneOf"] = [
        {
            "properties": {
                "unit": {"const": unit},
                "value": bounded("value", unit),
                "uln": {"anyOf": [bounded("uln", unit), {"type": "null"}]},
            }
        }
        for unit in ("mg/dL", "umol/L")
    ]


class Bilirubin(_Strict):
    """Total bilirubin; value and ULN in the same unit, mg/dL or umol/L (1 mg/dL = 17.1 umol/L)."""

    model_config = ConfigDict(json_schema_extra=_bilirubin_schema)

    unit: BilirubinUnit
    value: float = Field(gt=0, description="total bilirubin (LOINC 1975-2)")
    uln: float | None = Field(None, gt=0, description="lab ULN, same unit (required in labs)")

    @field_validator("value", "uln")
    @classmethod
    def _in_range(cls, v: float | None, info: ValidationInfo) -> float | None:
        unit = info.data.get("unit")
        if v is None or unit is None:
            return v
        field = "value" if info.field_name == "value" else "uln"
        low, high = _BILIRUBIN_RANGES[field, unit]
        if not low <= v <= high:
            column = "bilirubin_mg_dl" if field == "value" else "bilirubin_uln_mg_dl"
            lo, hi = _COL[column].min or 0.0, _COL[column].max or 0.0
            f = BILIRUBIN_UMOL_L_PER_MG_DL
            raise ValueError(
                f"must be between {lo:g} and {hi:g} mg/dL ({lo * f:.3g}-{hi * f:.4g} umol/L); "
                f"got {v:g} {unit}"
            )
        return v

    def mg_dl(self) -> tuple[float, float | None]:
        uln = None if self.uln is None else bilirubin_to_mg_dl(self.uln, self.unit)
        return bilirubin_to_mg_dl(self.value, self.unit), uln


class Albumin(_Strict):
    unit: Literal["g/dL"]
    value: float = _ranged("albumin_g_dl")
    lln: float = _ranged("albumin_lln_g_dl")


class Inr(_Strict):
    value: float = _ranged("inr")
    uln: float = _ranged("inr_uln")


class Platelets(_Strict):
    unit: Literal["10^9/L"]
    value: float = _ranged("platelets_10e9_l")
    lln: float = _ranged("platelets_lln_10e9_l")


def _latest_bilirubin_needs_uln(schema: dict[str, Any]) -> None:
    """The latest bilirubin's ULN is required (``_uln_given``): say so in the JSON schema."""
    needs_uln = {"required": ["uln"], "properties": {"uln": {"type": "number"}}}
    schema["properties"]["bilirubin"] = {"allOf": [schema["properties"]["bilirubin"], needs_uln]}


class Labs(_Strict):
    """The latest labs. ALT, ALP and bilirubin are required: the guideline rules read them."""

    model_config = ConfigDict(json_schema_extra=_latest_bilirubin_needs_uln)

    alt: Alt
    alp: Alp
    bilirubin: Bilirubin
    ast: Ast | None = None
    ggt: Ggt | None = None
    albumin: Albumin | None = None
    inr: Inr | None = None
    platelets: Platelets | None = None

    @field_validator("bilirubin")
    @classmethod
    def _uln_given(cls, b: Bilirubin) -> Bilirubin:
        if b.uln is None:
            raise ValueError("uln is required for the latest bilirubin")
        return b


class LiverHistory(_Strict):
    """Optional history: pre-treatment values (CTCAE abnormal-baseline rule) and duration."""

    baseline_alt: float | None = _ranged("alt_u_l", default=None)
    baseline_ast: float | None = _ranged("ast_u_l", default=None)
    baseline_alp: float | None = _ranged("alp_u_l", default=None)
    baseline_bilirubin: Bilirubin | None = None
    days_alt_or_ast_above_5x_uln: int | None = Field(None, ge=0, le=3650)


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
    alcohol_audit_c: int | None = _ranged("audit_c", default=None)
    opioid_use: OpioidUse = OpioidUse()
    social: Social = Social()
    medications: Medications = Medications()
    history: LiverHistory = LiverHistory()
    symptoms: Symptoms = Symptoms()

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
        for name, lab_value, limit in (
            ("ast", lab.ast, "uln"), ("ggt", lab.ggt, "uln"), ("albumin", lab.albumin, "lln"),
            ("inr", lab.inr, "uln"), ("platelets", lab.platelets, "lln"),
        ):  # fmt: skip
            value_col, limit_col = _LAB_COLUMNS[name]
            record[value_col] = None if lab_value is None else lab_value.value
            record[limit_col] = None if lab_value is None else getattr(lab_value, limit)
        return PatientInput(
            record=record, liver=self._panel(bili, bili_uln), patient_ref=self.patient_ref
        )

    def _panel(self, bili: float, bili_uln: float) -> LiverPanel:
        lab, h, s = self.labs, self.history, self.symptoms
        baseline = {"alt": h.baseline_alt, "ast": h.baseline_ast, "alp": h.baseline_alp}
        if h.baseline_bilirubin is not None:
            baseline["bilirubin"] = h.baseline_bilirubin.mg_dl()[0]
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


_LAB_COLUMNS = {
    "ast": ("ast_u_l", "ast_uln_u_l"),
    "ggt": ("ggt_u_l", "ggt_uln_u_l"),
    "albumin": ("albumin_g_dl", "albumin_lln_g_dl"),
    "inr": ("inr", "inr_uln"),
    "platelets": ("platelets_10e9_l", "platelets_lln_10e9_l"),
}


BATCH_LIMIT = 1000


class BatchRequest(_Strict):
    patients: list[AssessRequest] = Field(min_length=1, max_length=BATCH_LIMIT)
    explain: bool = Field(True, description="include the top drivers of each risk")
