"""The code lists the FHIR mapping reads: LOINC labs, UCUM units, RxNorm drugs, ICD-10/SNOMED.

Each list names its source. The codes first written from memory were checked (no terminology
server was reachable) against public listings that pair each code with its display name: FHIR
specification and implementation-guide value sets and examples (hl7.org, build.fhir.org), VSAC
expansions and CDC/CPIC tables in public repositories; the source is cited beside each group.
Codes still marked ``# verify`` found no such listing and remain unconfirmed. Text matching
(ingredient names in ``code.text`` / ``coding.display``) works alongside every code list, so a
wrong or missing code loses a match rather than creating a false one.
"""

from __future__ import annotations

from dataclasses import dataclass

from hepatorisk.fhir.ucum import Dimension, convert_factor, parse

__all__ = [
    "BMI_LOINC",
    "CONDITIONS",
    "DRUG_CLASSES",
    "ICD10",
    "LABS",
    "LOINC",
    "RXNORM",
    "SNOMED",
    "UCUM",
    "DrugClass",
    "LabCode",
]

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
ICD10 = ("http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10")


@dataclass(frozen=True)
class LabCode:
    """One LOINC lab: its AssessRequest name, official display, unit, and LOINC property."""

    name: str
    loinc: str
    display: str  # LOINC long common name
    unit: str  # the AssessRequest's unit (a UCUM code, or one of the service's spellings)
    ucum: str  # ``unit`` as a UCUM code
    prop: Dimension  # LOINC property as a UCUM dimension: what units may carry the value
    limit: str  # "uln" (referenceRange.high) or "lln" (referenceRange.low)

    def factor(self, unit: str) -> float | None:
        """x [unit] * factor = y [self.ucum] when ``unit`` is a UCUM unit of this property."""
        code = TEXT_UNITS.get(unit, unit)
        if self.prop == CATALYTIC:  # the "international unit" of enzyme activity is U
            code = code.replace("[IU]", "U")
        q = parse(code)
        if q is None or q.dim != self.prop:
            return None
        return convert_factor(code, self.ucum)


# LOINC properties (https://loinc.org/kb/users-guide/major-parts-of-a-loinc-term/) as UCUM
# dimensions (g, m, s, mol): CCnc catalytic, MCnc mass, SCnc substance, NCnc number
# concentration; INR is a ratio.
CATALYTIC: Dimension = (0, -3, -1, 1)
MASS_CONC: Dimension = (1, -3, 0, 0)
SUBSTANCE_CONC: Dimension = (0, -3, 0, 1)
NUMBER_CONC: Dimension = (0, -3, 0, 0)
RATIO: Dimension = (0, 0, 0, 0)
# human-readable ``unit`` texts sent without a UCUM code, as the UCUM code they stand for; the
# "international unit" of enzyme activity ([IU] in UCUM is the WHO arbitrary unit) is the enzyme
# unit U by clinical-chemistry convention, for catalytic-concentration labs only
TEXT_UNITS = {"IU/L": "[IU]/L", "K/uL": "10*3/uL", "10^9/L": "10*9/L", "x10^9/L": "10*9/L",
              "": "1"}  # fmt: skip

# LOINC codes: clinical-facts.md §2 (ALT, AST, ALP, bilirubin, GGT, albumin, INR, platelets:
# build.fhir.org cqframework ALT value set, hl7-eu lab-test-name value set, US Core STU7
# platelets example, PACIO INR example); 14631-6 is total bilirubin's substance-concentration
# (SI, umol/L) code beside the mass-concentration 1975-2. Displays are LOINC long common names.
# Units are converted by UCUM (``ucum.py``); bilirubin umol/L <-> mg/dL only by the service's
# molar factor (clinical/units.py), so each code keeps its own unit.
LABS: dict[str, LabCode] = {
    lab.loinc: lab
    for lab in (
        LabCode("alt", "1742-6",
                "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
                "U/L", "U/L", CATALYTIC, "uln"),
        LabCode("ast", "1920-8",
                "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
                "U/L", "U/L", CATALYTIC, "uln"),
        LabCode("alp", "6768-6",
                "Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma",
                "U/L", "U/L", CATALYTIC, "uln"),
        LabCode("ggt", "2324-2",
                "Gamma glutamyl transferase [Enzymatic activity/volume] in Serum or Plasma",
                "U/L", "U/L", CATALYTIC, "uln"),
        LabCode("bilirubin", "1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma",
                "mg/dL", "mg/dL", MASS_CONC, "uln"),
        LabCode("bilirubin", "14631-6", "Bilirubin.total [Moles/volume] in Serum or Plasma",
                "umol/L", "umol/L", SUBSTANCE_CONC, "uln"),
        LabCode("albumin", "1751-7", "Albumin [Mass/volume] in Serum or Plasma",
                "g/dL", "g/dL", MASS_CONC, "lln"),
        LabCode("inr", "6301-6", "INR in Platelet poor plasma by Coagulation assay",
                "1", "1", RATIO, "uln"),
        LabCode("platelets", "777-3", "Platelets [#/volume] in Blood by Automated count",
                "10^9/L", "10*9/L", NUMBER_CONC, "lln"),
    )
}  # fmt: skip

# Other observations the model reads. Sources: BMI, hl7.org/fhir ValueSet observation-vitalsign-bmi;
# AUDIT-C, US Core Observation-AUDIT-C-item-example-75626-2; HCV Ab, CH EKM (build.fhir.org/ig/
# ahdis/ch-ekm) Observation-ChEkmObservationExample-HepatitisCVirusAb; HBsAg, CH ELM ConceptMap
# ch-elm-results-to-foph-patient-name-representation and project-husky/husky LabObsListLoinc.java
# (5196-1's current long name; older listings show "... [Presence] in Serum"). Positive/Negative:
# logicahealth/covid-19 fsh/fsh-source/CV19-ValueSets.fsh (PosNegVS).
BMI_LOINC = "39156-5"  # Body mass index (BMI) [Ratio]
AUDIT_C_LOINC = "75626-2"  # Total score [AUDIT-C]
HCV_AB_LOINC = "16128-1"  # Hepatitis C virus Ab [Presence] in Serum
HBSAG_LOINC = "5196-1"  # Hepatitis B virus surface Ag [Presence] in Serum or Plasma by Immunoassay
# Weekly opioid urine drug screens (not in clinical-facts.md; standard LOINC): Opiates [Presence]
# in Urine by Screen method, loinc.org/19295-5; Fentanyl [Presence] in Urine by Screen method,
# loinc.org/59673-4 (e.g. Rutland Regional Medical Center's test catalog, "Fentanyl Screen,
# Urine", LOINC 59673-4). An opiates immunoassay misses fentanyl, so either screen positive makes
# the week positive (the cohort's uds_opioid).
OPIOID_SCREEN_LOINC = {"19295-5": "opiates", "59673-4": "fentanyl"}
POSITIVE = {"10828004", "positive", "detected", "reactive", "pos"}  # SNOMED 10828004 Positive
NEGATIVE = {"260385009", "negative", "not detected", "nonreactive", "non-reactive", "neg"}


@dataclass(frozen=True)
class DrugClass:
    """A group of drugs the model has one input for: ingredient RxCUIs and names to match."""

    name: str
    rxcuis: frozenset[str]
    words: tuple[str, ...]


# RxNorm ingredient (TTY IN) RxCUIs. Sources: cpicpgx/cpic-schema drug.sql (RxNorm:<cui> name
# rows) for methadone, naltrexone, atorvastatin, simvastatin, rosuvastatin, pravastatin, isoniazid,
# valproic acid, methotrexate, nitrofurantoin, fluoxetine, paroxetine, bupropion, carbamazepine;
# cqframework/opioid-mme-r4 input/cql/OMTKData.cql (ingredientCode 1819 'Buprenorphine', 6813
# 'Methadone'); VSAC Statin Allergen 2.16.840.1.113762.1.4.1110.42 as expanded in
# canvas-medical/canvas-plugins canvas_sdk/value_set/v2022/adverse_event.py (all seven statins);
# RxNav rxcui/161/properties.json (acetaminophen, IN) as quoted in public API fixtures. Codes
# marked "# verify" were not found in any listing. Ingredient names are matched in the text too,
# because statements usually carry clinical-drug (SCD/SBD) codes rather than ingredient codes.
# Hepatotoxic list: LiverTox category A/B drugs a clinic commonly sees (assumption: an illustrative,
# not exhaustive, list). CYP list: strong or moderate CYP3A4/CYP2D6 inhibitors and inducers (FDA
# drug-interaction table; assumption: illustrative, not exhaustive).
DRUG_CLASSES: tuple[DrugClass, ...] = (
    DrugClass(
        "buprenorphine",
        frozenset({"1819"}),
        ("buprenorphine", "suboxone", "subutex", "sublocade", "zubsolv"),
    ),
    DrugClass("methadone", frozenset({"6813"}), ("methadone",)),
    DrugClass("naltrexone", frozenset({"7243"}), ("naltrexone", "vivitrol")),
    DrugClass("acetaminophen", frozenset({"161"}), ("acetaminophen", "paracetamol", "tylenol")),
    DrugClass(
        "statin",
        frozenset({"83367", "36567", "301542", "42463", "6472", "41127", "861634"}),
        ("statin",),  # atorvastatin, simvastatin, ... all end in "statin" ("nystatin" excluded)
    ),
    DrugClass(
        "other_hepatotoxic",
        frozenset(
            {
                "6038",  # isoniazid
                "11118",  # valproic acid
                "703",  # amiodarone  # verify
                "6851",  # methotrexate
                "6135",  # ketoconazole  # verify
                "7454",  # nitrofurantoin
                "10612",  # unidentified (meant tolcapone or leflunomide?)  # verify
            }
        ),
        (
            "isoniazid",
            "valproate",
            "valproic",
            "amiodarone",
            "methotrexate",
            "ketoconazole",
            "nitrofurantoin",
            "tolcapone",
            "leflunomide",
            "amoxicillin/clavulanate",
        ),
    ),
    DrugClass(
        "cyp_interacting",
        frozenset(
            {
                "21212",  # clarithromycin  # verify
                "4450",  # fluconazole  # verify
                "85762",  # ritonavir  # verify
                "4493",  # fluoxetine
                "32937",  # paroxetine
                "42347",  # bupropion
                "9384",  # rifampin  # verify
                "2002",  # carbamazepine
            }
        ),
        (
            "clarithromycin",
            "fluconazole",
            "ritonavir",
            "fluoxetine",
            "paroxetine",
            "bupropion",
            "rifampin",
            "rifampicin",
            "carbamazepine",
            "itraconazole",
            "voriconazole",
        ),
    ),
)
NOT_STATINS = ("nystatin",)
KRATOM_WORDS = ("kratom", "mitragyn")  # no RxNorm concept: kratom is not an approved drug
KRATOM_PRODUCTS = (  # first match wins; wording a clinician types (assumption)
    ("extract", ("extract", "tincture", "shot", "resin", "liquid")),
    ("tablet", ("tablet", "capsule", "pill")),
    ("leaf_powder", ("powder", "leaf", "tea", "crushed")),
)
XR_NALTREXONE_WORDS = ("extended", "er ", "xr", "vivitrol", "inject", "380 mg")

# Conditions: ICD-10-CM (CMS ICD-10-CM tabular list) B16 acute hepatitis B, B17.1 acute
# hepatitis C, B18.0/B18.1 chronic hepatitis B, B18.2 chronic hepatitis C, B20 HIV disease,
# E10-E13 diabetes mellitus. SNOMED CT sources: logicahealth/covid-19 fsh/fsh-source/
# CV19-ValueSets.fsh (128302006 Chronic hepatitis C, 61977001 Chronic type B viral hepatitis,
# 86406008 Human immunodeficiency virus infection, 73211009 Diabetes mellitus); hl7ch/ch-vacd
# input/fsh/instances/ch-vacd-vaccines-targetdiseases-cm.fsh (66071002 Viral hepatitis type B);
# build.fhir.org/ig/e-medlab/healthsense ValueSet-hs-diabetes-type (46635009 type 1, 44054006
# type 2, tx.fhir.org expansion). 50711007 "Viral hepatitis type C (disorder)" appears only in
# public files the search index could not attribute to a repository, hence still "# verify".
CONDITIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "hcv": {
        "icd10": ("B17.1", "B18.2"),
        "snomed": ("50711007", "128302006"),  # viral hepatitis C (verify); chronic hepatitis C
        "words": ("hepatitis c", "hcv"),
    },
    "hbv": {
        "icd10": ("B16", "B18.0", "B18.1"),
        "snomed": ("66071002", "61977001"),  # viral hepatitis B; chronic hepatitis B
        "words": ("hepatitis b", "hbv"),
    },
    "hiv": {
        "icd10": ("B20",),
        "snomed": ("86406008",),  # HIV infection
        "words": ("hiv", "human immunodeficiency virus"),
    },
    "diabetes": {
        "icd10": ("E10", "E11", "E13"),
        "snomed": ("73211009", "44054006", "46635009"),  # DM; type 2; type 1
        "words": ("diabetes mellitus",),
    },
}
