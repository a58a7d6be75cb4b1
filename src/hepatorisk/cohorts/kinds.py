"""The cohort kinds hepatorisk knows, each named once with where its code lives.

A cohort folder's ``cohort.json`` names its kind; the pipeline file names the kind it expects;
``cohort build`` offers the public ones. Every such list is read from here. Modules are named
as text and imported only when that kind is used (a synthetic run never imports the NHANES code).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

__all__ = ["KINDS", "PUBLIC_KINDS", "CohortKind", "KindInfo", "kind_info"]

CohortKind = Literal["synthetic", "ctn0094", "nhanes"]


@dataclass(frozen=True)
class KindInfo:
    """One cohort kind: whether it is built from vendored public data, and its modules."""

    name: CohortKind
    public: bool
    schema_module: str  # its ``TABLES`` maps table name -> schema
    describer: str  # "module:function" returning the kind's ``Description``


_INFO = (
    KindInfo(
        "synthetic",
        public=False,
        schema_module="hepatorisk.cohorts.synthetic.tables",
        describer="hepatorisk.cohorts.synthetic.describe:describe",
    ),
    KindInfo(
        "ctn0094",
        public=True,
        schema_module="hepatorisk.cohorts.ctn0094.schema",
        describer="hepatorisk.cohorts.ctn0094.describe:describe",
    ),
    KindInfo(
        "nhanes",
        public=True,
        schema_module="hepatorisk.cohorts.nhanes.schema",
        describer="hepatorisk.cohorts.nhanes.describe:describe",
    ),
)
KIND_INFO: dict[str, KindInfo] = {info.name: info for info in _INFO}
KINDS: tuple[str, ...] = get_args(CohortKind)
PUBLIC_KINDS: tuple[str, ...] = tuple(info.name for info in _INFO if info.public)
assert tuple(KIND_INFO) == KINDS, "every cohort kind needs its KindInfo, in the same order"


def kind_info(kind: str) -> KindInfo:
    return KIND_INFO[kind]
