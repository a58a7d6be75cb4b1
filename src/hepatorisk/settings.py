"""hepatorisk's one configuration: the service, its FHIR/CDS Hooks face, tracking and paths.

Read once, from the environment (prefix ``HEPATORISK_``; the tracking server is MLflow's own
``MLFLOW_TRACKING_URI``) or a .env file, through :func:`get_settings` (cached) or ``Settings(...)``
in the CLI; the app keeps the object it was built with and hands it to its worker processes
(:meth:`Settings.environment`). Nothing is read at import time.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["TRACKING_URI_VARIABLE", "ApiToken", "Settings", "get_settings"]

TRACKING_URI_VARIABLE = "MLFLOW_TRACKING_URI"  # MLflow's own variable: one name for one thing


class ApiToken(BaseModel):
    """A bearer token, who holds it, and when it stops being accepted (UTC; None = never)."""

    caller: str = Field(min_length=1, max_length=100)
    token: SecretStr = Field(min_length=16)
    expires_at: datetime | None = None

    def expired(self, now: datetime | None = None) -> bool:
        if self.expires_at is None:
            return False
        expires = self.expires_at
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        return (now or datetime.now(UTC)) >= expires


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="HEPATORISK_",
        env_file=None,
        extra="ignore",
        env_nested_delimiter="__",
        populate_by_name=True,
    )

    liver_model: str = "models:/hepatorisk-liver@champion"
    relapse_model: str = "models:/hepatorisk-relapse@champion"
    tracking_uri: str | None = Field(
        default=None,
        validation_alias=AliasChoices(TRACKING_URI_VARIABLE),
        description="MLflow tracking/registry URI for models:/ sources (MLFLOW_TRACKING_URI); "
        "unset: the embedded SQLite store in the working directory",
    )
    # JSON in the environment, e.g. '[{"caller": "ehr", "token": "..."}]'
    api_tokens: list[ApiToken] = Field(default_factory=list)
    admin_tokens: list[ApiToken] = Field(default_factory=list)
    audit_db_url: str = "sqlite:///work/audit.db"
    identifier_salt: SecretStr = Field(
        default=SecretStr(""), description="HMAC key for hashing patient references in the audit"
    )
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=4_000_000, ge=1_000)
    policy_path: Path | None = None
    reload_poll_seconds: float = Field(
        default=0.0, ge=0, description="poll the registry alias this often (0 = only on demand)"
    )
    top_drivers: int = Field(default=5, ge=1, le=50)
    model_card_url: str | None = Field(
        None, description="model card / documentation URL of CDS cards; default: this /docs"
    )

    # --- operations under failure: readiness probe of the audit store, retry hint, /metrics ---
    audit_probe_timeout: float = Field(
        default=2.0, gt=0, le=30, description="seconds a readiness probe of the audit store waits"
    )
    audit_probe_max_age: float = Field(
        default=1.0, ge=0, le=60, description="seconds a probe's answer is reused (cheap probes)"
    )
    retry_after_seconds: int = Field(
        default=5, ge=1, le=3600, description="Retry-After of a 503 when the audit store fails"
    )
    metrics_tokens: list[ApiToken] = Field(
        default_factory=list,
        description="bearer tokens of /metrics scrapers; empty: /metrics is open",
    )

    def environment(self) -> dict[str, str]:
        """These settings as ``HEPATORISK_*`` variables (secrets included), so that worker
        processes started by ``hepatorisk serve --workers`` build exactly the same settings."""
        env = {}
        for name, value in self.model_dump(mode="python").items():
            if value is None:
                continue
            plain = _plain(value)
            text = plain if isinstance(plain, str) else json.dumps(plain)
            key = f"{self.model_config['env_prefix']}{name.upper()}"
            env[TRACKING_URI_VARIABLE if name == "tracking_uri" else key] = text
        return env


def _plain(value: object) -> object:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
