"""Secrets that cannot be left empty: start-up refuses an unset, short or placeholder salt or
token with one line naming the setting and the rule (exit 2), never the value; ``token`` and
``salt`` write secrets to an env file (mode 600) and never print them; an audit database of an
older version is detected."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest
from dotenv import dotenv_values
from pydantic import ValidationError
from service_support import API_TOKEN, SALT

from hepatorisk.assessment.audit import AuditLog, AuditSchemaError, key_id
from hepatorisk.cli import main
from hepatorisk.exceptions import ConfigError
from hepatorisk.settings import Settings

TOKENS = json.dumps([{"caller": "ehr", "token": API_TOKEN}])


def _tokens(value: str) -> str:
    return json.dumps([{"caller": "ehr", "token": value}])


REFUSED = [
    # (environment, the variable named, the rule named, the value that must not be shown)
    ({"HEPATORISK_API_TOKENS": TOKENS}, "HEPATORISK_IDENTIFIER_SALT", "is not set", None),
    ({"HEPATORISK_API_TOKENS": TOKENS, "HEPATORISK_IDENTIFIER_SALT": ""},
     "HEPATORISK_IDENTIFIER_SALT", "is not set", None),
    ({"HEPATORISK_API_TOKENS": TOKENS, "HEPATORISK_IDENTIFIER_SALT": "short-salt-9f3k"},
     "HEPATORISK_IDENTIFIER_SALT", "at least 32 characters", "short-salt-9f3k"),
    ({"HEPATORISK_API_TOKENS": TOKENS,
      "HEPATORISK_IDENTIFIER_SALT": "replace-with-a-random-key"},  # serve/.env.example's
     "HEPATORISK_IDENTIFIER_SALT", "placeholder", "replace-with-a-random-key"),
    ({"HEPATORISK_API_TOKENS": TOKENS, "HEPATORISK_IDENTIFIER_SALT": "a" * 40},
     "HEPATORISK_IDENTIFIER_SALT", "distinct characters", "a" * 40),
    ({"HEPATORISK_IDENTIFIER_SALT": SALT}, "HEPATORISK_API_TOKENS", "is not set", None),
    ({"HEPATORISK_IDENTIFIER_SALT": SALT, "HEPATORISK_API_TOKENS": _tokens("tok-9f3k2")},
     "HEPATORISK_API_TOKENS[0].token", "at least 16 characters", "tok-9f3k2"),
    ({"HEPATORISK_IDENTIFIER_SALT": SALT,
      "HEPATORISK_API_TOKENS": _tokens("replace-with-32+-random-chars")},
     "HEPATORISK_API_TOKENS[0].token", "placeholder", "replace-with-32+-random-chars"),
    ({"HEPATORISK_IDENTIFIER_SALT": SALT, "HEPATORISK_API_TOKENS": TOKENS,
      "HEPATORISK_ADMIN_TOKENS": _tokens("changeme")},
     "HEPATORISK_ADMIN_TOKENS[0].token", "placeholder", None),
    ({"HEPATORISK_IDENTIFIER_SALT": SALT, "HEPATORISK_API_TOKENS": '[{"token": "sec-9f3k2x'},
     "HEPATORISK_API_TOKENS", "not valid JSON", "sec-9f3k2x"),
]  # fmt: skip


@pytest.mark.parametrize(("env", "variable", "rule", "secret"), REFUSED)
def test_start_up_refuses_weak_secrets_in_one_line(
    env, variable, rule, secret, monkeypatch, capsys, tmp_path
):
    for name in list(__import__("os").environ):
        if name.startswith("HEPATORISK_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    code = main(["serve", "--liver-model", "never-loaded", "--relapse-model", "never-loaded"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    [line] = err.splitlines()  # one line, no traceback
    assert line.startswith("hepatorisk: error: ")
    assert variable in line and rule in line
    if secret is not None:
        assert secret not in err


def test_env_file_with_a_placeholder_is_refused_from_the_file(monkeypatch, capsys, tmp_path):
    env_file = tmp_path / "service.env"
    example = Path(__file__).resolve().parents[2] / "serve" / ".env.example"
    env_file.write_text(example.read_text())
    code = main(["serve", "--env-file", str(env_file)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1
    assert "placeholder" in err and "replace-with" not in err


def test_settings_validate_every_secret_they_are_given():
    with pytest.raises(ValidationError, match="identifier salt is a placeholder") as info:
        Settings(identifier_salt="changeme-changeme-changeme-changeme")
    assert "changeme-changeme" not in str(info.value.errors(include_input=False))
    for field in ("api_tokens", "admin_tokens", "metrics_tokens"):
        with pytest.raises(ValidationError, match="at least 16 characters"):
            Settings(**{field: [{"caller": "x", "token": "short"}]})
    unset = Settings()  # nothing to serve with: allowed to exist, refused at start-up
    with pytest.raises(ConfigError, match="HEPATORISK_IDENTIFIER_SALT is not set"):
        unset.require_secrets()


def test_token_writes_token_and_salt_mode_600_and_prints_neither(tmp_path, capsys):
    env_file = tmp_path / "work" / "service.env"
    assert main(["token", "--caller", "demo", "--env-file", str(env_file)]) == 0
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    first = dotenv_values(env_file)
    salt = first["HEPATORISK_IDENTIFIER_SALT"] or ""
    [demo] = json.loads(first["HEPATORISK_API_TOKENS"] or "")
    out = capsys.readouterr().out
    assert demo["token"] not in out and salt not in out and str(env_file) in out
    assert "identifier salt created" in out
    # again, and for a second caller: the salt is kept (old audit rows stay linkable), the
    # caller's token replaced, the other callers' tokens kept; an admin token beside them
    env_file.write_text(env_file.read_text() + "HEPATORISK_TOP_DRIVERS=3\n")
    assert main(["token", "--caller", "demo", "--env-file", str(env_file)]) == 0
    assert main(["token", "--caller", "ehr", "--env-file", str(env_file)]) == 0
    assert main(["token", "--caller", "ops", "--admin", "--env-file", str(env_file)]) == 0
    assert "salt created" not in capsys.readouterr().out
    now = dotenv_values(env_file)
    assert now["HEPATORISK_IDENTIFIER_SALT"] == salt and now["HEPATORISK_TOP_DRIVERS"] == "3"
    tokens = json.loads(now["HEPATORISK_API_TOKENS"] or "")
    assert [t["caller"] for t in tokens] == ["demo", "ehr"]
    assert tokens[0]["token"] != demo["token"]
    settings = Settings(_env_file=env_file)  # what serve reads: valid
    settings.require_secrets()
    assert [t.caller for t in settings.admin_tokens] == ["ops"]
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600


def test_token_refuses_to_overwrite_an_unreadable_token_line(tmp_path, capsys):
    env_file = tmp_path / "service.env"
    env_file.write_text("HEPATORISK_API_TOKENS='not json sec-9f3k2x'\n")
    assert main(["token", "--env-file", str(env_file)]) == 2
    err = capsys.readouterr().err
    assert "HEPATORISK_API_TOKENS is not a JSON list" in err and "sec-9f3k2x" not in err
    assert "sec-9f3k2x" in env_file.read_text()  # untouched


def test_salt_is_created_once_and_rotation_keeps_the_old_key(tmp_path, capsys):
    env_file = tmp_path / "service.env"
    assert main(["salt", "--env-file", str(env_file)]) == 0
    first = dotenv_values(env_file)["HEPATORISK_IDENTIFIER_SALT"] or ""
    assert len(first) == 64 and stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert main(["salt", "--env-file", str(env_file)]) == 0  # present: unchanged
    assert dotenv_values(env_file)["HEPATORISK_IDENTIFIER_SALT"] == first
    assert main(["salt", "--rotate", "--env-file", str(env_file)]) == 0
    out = capsys.readouterr().out
    values = dotenv_values(env_file)
    new = values["HEPATORISK_IDENTIFIER_SALT"] or ""
    assert new != first
    assert values[f"HEPATORISK_RETIRED_IDENTIFIER_SALT_{key_id(first)}"] == first
    assert first not in out and new not in out and key_id(first) in out
    assert Settings(_env_file=env_file).identifier_salt.get_secret_value() == new


def test_old_rows_stay_verifiable_after_a_rotation(tmp_path):
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    old, new = SALT, "another-identifier-salt-0f9e8d7c6b5a"
    for salt in (old, new):
        log = AuditLog(url, salt)
        log.record(f"r-{key_id(salt)}", "assess", "ehr", {}, [_entry(log)])
        log.close()
    reader = AuditLog(url)
    rows = reader.rows()
    reader.close()
    keys = {old: AuditLog(url, old), new: AuditLog(url, new)}
    try:
        for row in rows:
            [log] = [log for log in keys.values() if log.key_id == row["key_id"]]
            assert row["patient_ref_hmac"] == log.hash_ref("MRN-0042")
            assert row["input_hmac"] == log.hash_input({"age": 41})
    finally:
        for log in keys.values():
            log.close()
    assert len({r["key_id"] for r in rows}) == 2


def _entry(log: AuditLog):
    from hepatorisk.assessment.audit import AuditEntry

    return AuditEntry(0, log.hash_input({"age": 41}), "MRN-0042", {}, {})


def test_hashes_need_the_key(tmp_path):
    reader = AuditLog(f"sqlite:///{tmp_path / 'audit.db'}")
    with pytest.raises(ConfigError, match="only reads"):
        reader.hash_ref("MRN-0042")
    reader.close()
    with pytest.raises(ConfigError, match="empty"):
        AuditLog(f"sqlite:///{tmp_path / 'audit.db'}", "")
    log = AuditLog(f"sqlite:///{tmp_path / 'audit.db'}", SALT)
    assert log.hash_text("a comment") != AuditLog.__name__
    assert log.hash_text("") is None and log.hash_text(None) is None
    assert len(log.hash_text("a comment") or "") == 64
    log.close()


def test_an_audit_database_of_an_older_version_is_refused_with_the_way_out(tmp_path):
    db = tmp_path / "audit.db"
    con = sqlite3.connect(db)
    con.execute(
        "CREATE TABLE assessments (request_id VARCHAR(64), item INTEGER, created_at DATETIME, "
        "endpoint VARCHAR(64), caller VARCHAR(100), models JSON, input_sha256 VARCHAR(64), "
        "patient_ref_hmac VARCHAR(64), outputs JSON, flags JSON, PRIMARY KEY (request_id, item))"
    )
    con.commit()
    con.close()
    with pytest.raises(AuditSchemaError, match=r"older hepatorisk.*input_hmac.*RENAME TO"):
        AuditLog(f"sqlite:///{db}", SALT)
    con = sqlite3.connect(db)
    con.execute("ALTER TABLE assessments RENAME TO assessments_v1")  # the documented way out
    con.commit()
    con.close()
    AuditLog(f"sqlite:///{db}", SALT).close()
