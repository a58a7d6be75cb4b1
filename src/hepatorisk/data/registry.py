"""The public datasets hepatorisk may vendor: every file with its SHA-256, size and origin.

The checksums pin the exact bytes committed under ``data/public/<name>/``; a loader or a fetch that
sees any other bytes refuses them. ``data/public/checksums.json`` is this table written out for
people and for ``sha256sum``; a test keeps the two identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hepatorisk import paths
from hepatorisk.exceptions import ConfigError, DataSourceError

__all__ = [
    "DATASETS",
    "DataFile",
    "Dataset",
    "checksum_manifest",
    "default_source",
    "get_dataset",
]

# public.ctn0094data v1.0.6 (MIT): the commit named in data/public/ctn0094/PROVENANCE.md.
_CTN_COMMIT = "ea8a040205c0ac7a826585c272fa1ecf53420a50"
_CTN_RAW = f"https://raw.githubusercontent.com/CTN-0094/public.ctn0094data/{_CTN_COMMIT}"
# NHANES 2017-2018 (cycle J) files as published by CDC/NCHS. The vendored bytes were taken from the
# GitHub mirrors below (see data/public/nhanes_2017_2018/PROVENANCE.md); they are tried after CDC.
_CDC = "https://wwwn.cdc.gov/Nchs/Data/Nhanes/Public/2017/DataFiles"
_NAFLD_RAW = (
    "https://raw.githubusercontent.com/danzhang41/NAFLD-Algorithm/"
    "fc4efda1054e03302ec53a0a135ac520549e762f/data"
)
_DUQ_RAW = (
    "https://raw.githubusercontent.com/lilisbeit/Preventing-Hospitalizations/"
    "acb0348f437baefa5dbeaa5eb44b1ba00c51cbbb/data"
)


@dataclass(frozen=True)
class DataFile:
    """One published file: its name, the SHA-256 and size of the pinned bytes, where to get it."""

    name: str
    sha256: str
    size: int
    urls: tuple[str, ...]
    layout_path: str = ""  # where the file sits in its origin's own layout (R packages: data/)


@dataclass(frozen=True)
class Dataset:
    """A folder of published files that is vendored, fetched and verified as a whole."""

    name: str
    folder: str
    title: str
    license: str
    files: tuple[DataFile, ...]

    def file(self, name: str) -> DataFile:
        for item in self.files:
            if item.name == name:
                return item
        known = ", ".join(f.name for f in self.files)
        raise KeyError(f"{self.name} has no file {name!r} (known: {known})")


# name, SHA-256, bytes: the files as committed at the public.ctn0094data commit above.
_CTN_FILES = """
LICENSE a4a6bfb1a17999357b8477cc9fb28628f5d150dc3f5916ba92c02073e5d10f6f 56
all_drugs.rda a2b1f8b8225bf1e8eaa3558e9450a7b4aa7d1d2cb42eae84c11c170b05221a64 205672
asi.rda a2d357cdedf1ca10673de7a7a47abd30684e778215d935239c7c36d04c06d1f9 2904
demographics.rda a6792f7c41d984b9dc398ad58905a94d5e882ae0a416eed326aa1c265c446b51 11921
detox.rda 10f92c25f49f1cb28bda30b9fd0799f0f4d63827eda61976c3e02cb77023cee0 3152
everybody.rda e00c5f12b6036f55d5a289aea84fbd6f7f97677290920de2ec2c53a1623cbc50 2842
fagerstrom.rda dd888614da8f1c0a4f29085c16daeb552c9ba71db8b63d425cb9a52357532b7a 7373
first_survey.rda 8ccab096448b7744619e4db67ae12a96bf393a2c6fcd7fb14ec4c41bece781c3 4370
meta_study_length.rda 2fed130ef88ff5c6fb2e1f820dad06a55a86a5dcac49a4620deb16cec4595df2 503
meta_substance_groups_uds.rda a0b17ace9027d781cdb01e7c84eb79e60ca60c2eea5915550d04c4857197b55f 471
pain.rda a50eb2bc06bac96ade5247373e203af3e8bed5ccc8c0601127d59fd128c4cb0d 6720
psychiatric.rda 44333de7780983c0c9b06895d2695a6618d124932587e8e08b861216f101a0ab 13803
qol.rda f9a67d7df412790960536b17b083ae223a4890a6004ab054ebccdbeccb8451be 1696
randomization.rda 394d62c139932762876efb281a7c49bbc995ee30c9d09e00709a2d6953ffb999 9276
rbs.rda 9479a9224edb775b5ee614518df67cb169f0cc20bc5beec042b59306491cfb93 15997
rbs_iv.rda 6e5505ea54b82638c4589b38bf6de528b3d25a156baad4af3c3fea9291591212 14171
screening_date.rda 1c613c79a33c5f0f800e8c65c511259074415c61c0e24a9ce8988358c6428dbd 7438
sex.rda 6661c5b0f5f49d18feea9207b741a97705a706cf3c03ee8f025e26d8779a87f1 29617
site_masked.rda 5980b29bd5580418168555a13300e226073fc8098d4fb8dd988e60e8f837e90d 4559
tlfb.rda 993aa49f9d4c9d6bb8ee5b0573ed839cf8b2b5bcd7125e99d326f87bedaa661e 114184
treatment.rda 41ed23aed6670662f2b79decd15bba839ab88094dca00c9d4a9dbac5df664503 54931
uds.rda a445cc08b407d8cb6b004f20990e5d29921a5f3c318d7a4ec3052d4f10ba8719 45341
uds_temp.rda c60c6a827a086cf3f79328d1f50bf52a58136bf06b9ff66d6af90acef58ee0f5 30621
visit.rda aca6f6f331bbfda524d9fc52d9b5548a24a6a9b960c30182f4f0e70a12f8f335 55514
withdrawal.rda d4810fa83051ee4be2a641aabcb2fe45bcf8fc0640e35a45994a6959703de706 19572
withdrawal_pre_post.rda 87ebc0e4387a82a422088cd9afbc5f35c79aac26f16ef914203a26120148661a 9805
"""

# name, SHA-256, bytes: the NHANES files as vendored (identical to the GitHub mirrors above).
_NHANES_FILES = """
ALQ_J.XPT 53006d407764ad16491f823d25f2781ba55363aee9cb304d3f5d9450cf25d5c1 444800
BIOPRO_J.XPT 5bcd5722c1892883b96a9d7fed0befadabacae313f800fadc0133cd5dd00c4c6 2106080
BMX_J.XPT 8d675e42d8826ac98714b2c3dd4c5138a5e353fb4424f7eff5e6db4a01ce838a 1466000
DEMO_J.XPT c0b46e0345ea19404928656277c8b0d10b0cca348a9b2fe4fc3c67e8b7ee73ec 3412720
DUQ_J.XPT 742cbea53abcccbb840ac9e579b97424cc70bde999d368a6f3736012d192a8a7 1506160
GHB_J.XPT 35f07094573a0061a03ed609a5a363b34eb1b1c7065d1623b43d72e132a8a654 103520
GLU_J.XPT 5b38897d0d7bfbc69dd9ca74ffdaf2f6a9bed5a91d4a7bf46e07f1332cc3379e 98480
HDL_J.XPT 9f4eb41b89f0c9f3d6262f873e671eeb2f2eb40581a8426b2a3c8fd4fc19439e 179680
HEQ_J.XPT d3688226cb1f1ac81f32c5954ccb201c3ad94f134208b75872df15e20c599ed6 316560
INS_J.XPT a5a65ba96778f9a1548818fd65418153395c00c7c3655702d46040ea59d7e97f 122880
LUX_J.XPT e6d79981c74d822b8e619ef47f327b85767a48796d636288278e68e4a46ef848 694080
"""


def _rows(table: str) -> list[tuple[str, str, int]]:
    rows = []
    for line in table.strip().splitlines():
        name, sha256, size = line.split()
        rows.append((name, sha256, int(size)))
    return rows


def _ctn_urls(name: str) -> tuple[str, ...]:
    return (f"{_CTN_RAW}/{name if name == 'LICENSE' else 'data/' + name}",)


def _nhanes_urls(name: str) -> tuple[str, ...]:
    mirror = _DUQ_RAW if name == "DUQ_J.XPT" else _NAFLD_RAW
    return (f"{_CDC}/{name}", f"{mirror}/{name}")


DATASETS: dict[str, Dataset] = {
    "ctn0094": Dataset(
        name="ctn0094",
        folder="ctn0094",
        title="CTN-0094 harmonized opioid-use-disorder trials (public.ctn0094data v1.0.6)",
        license="MIT",
        files=tuple(
            DataFile(n, s, z, _ctn_urls(n), "" if n == "LICENSE" else f"data/{n}")
            for n, s, z in _rows(_CTN_FILES)
        ),
    ),
    "nhanes": Dataset(
        name="nhanes",
        folder="nhanes_2017_2018",
        title="NHANES 2017-2018 (cycle J) CDC/NCHS SAS transport files",
        license="Public domain (U.S. federal government work; NCHS data-use restrictions apply)",
        files=tuple(DataFile(n, s, z, _nhanes_urls(n)) for n, s, z in _rows(_NHANES_FILES)),
    ),
}


def get_dataset(name: str) -> Dataset:
    """Look a dataset up by name; an unknown name lists the known ones."""
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise ConfigError(f"unknown dataset {name!r}; expected one of: {known}") from None


def checksum_manifest() -> dict[str, object]:
    """The registry as the JSON committed at ``data/public/checksums.json`` (sorted, stable)."""
    return {
        ds.name: {
            "folder": ds.folder,
            "title": ds.title,
            "license": ds.license,
            "files": {
                f.name: {"sha256": f.sha256, "bytes": f.size, "urls": list(f.urls)}
                for f in ds.files
            },
        }
        for ds in DATASETS.values()
    }


def default_source(name: str) -> Path:
    """The vendored folder of dataset ``name`` (``data/public/<folder>``); a clear error if none
    of the candidate folders exists."""
    ds = get_dataset(name)
    candidates = [root / ds.folder for root in paths.public_data_candidates()]
    for folder in candidates:
        if folder.is_dir():
            return folder
    tried = ", ".join(str(c) for c in candidates)
    raise DataSourceError(
        f"no vendored {name} data found (looked in {tried}). Run from the repository root, pass "
        f"--source DIR, or get the files with 'hepatorisk data fetch {name} --dest DIR'."
    )
