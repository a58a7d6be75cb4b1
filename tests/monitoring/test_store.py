"""The monitoring store: retention, outcome keys, and the commands' clear errors."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from hepatorisk.cli import main
from hepatorisk.exceptions import ConfigError
from hepatorisk.monitoring.store import MonitoringRecord, MonitoringStore, iso_week, patient_key

SALT = "test-identifier-salt-4f1c9a7e2b6d8035"


def _record(request_id: str, week: str, key: str | None = None) -> MonitoringRecord:
    return MonitoringRecord(request_id, 0, key, "liver", "m", "1", {"age": 40}, 0.1, "low",
                            week=week)  # fmt: skip


def test_retention_deletes_old_weeks(tmp_path: Path) -> None:
    store = MonitoringStore(f"sqlite:///{tmp_path / 'm.db'}", retention_weeks=4)
    today = date(2026, 12, 1)
    store.add([_record("a" * 32, iso_week(today - timedelta(weeks=10))),
               _record("b" * 32, iso_week(today))])  # fmt: skip
    assert store.purge(today) == 1
    assert list(store.window(None)["request_id"]) == ["b" * 32]
    with pytest.raises(ConfigError, match="at least 1 week"):
        MonitoringStore(f"sqlite:///{tmp_path / 'n.db'}", retention_weeks=0)


def test_outcomes_imported_by_patient_reference_are_keyed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    MonitoringStore(url).add([_record("c" * 32, iso_week(), patient_key(SALT, "MRN-77"))])
    env = tmp_path / "service.env"
    env.write_text(f"HEPATORISK_IDENTIFIER_SALT={SALT}\n")
    table = tmp_path / "outcomes.csv"
    pd.DataFrame({"patient_ref": ["MRN-77", "MRN-78"], "outcome": "liver", "value": [1, 0]}).to_csv(
        table, index=False
    )
    assert main(["outcomes", "import", str(table), "--db", url, "--env-file", str(env)]) == 0
    assert "2 outcomes imported, 1 matched" in capsys.readouterr().out
    assert b"MRN" not in (tmp_path / "m.db").read_bytes()
    assert list(MonitoringStore(url).window(None)["observed"]) == [1.0]


def test_bad_input_is_one_clear_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    MonitoringStore(url)
    table = tmp_path / "outcomes.csv"
    pd.DataFrame({"request_id": ["d" * 32], "outcome": ["kidney"], "value": [1]}).to_csv(
        table, index=False
    )
    assert main(["outcomes", "import", str(table), "--db", url]) == 2
    assert "outcome must be 'liver' or 'relapse'" in capsys.readouterr().err
    model = tmp_path / "no-model"
    code = main(["monitor", str(model), "--records", url, "--from", "week 3", "--out",
                 str(tmp_path / "out")])  # fmt: skip
    assert code == 2 and "no-model" in capsys.readouterr().err
