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

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hepatorisk.exceptions import ConfigError

__all__ = [
    "MIN_SALT_LENGTH",
    "MIN_TOKEN_LENGTH",
    "TRACKING_URI_VARIABLE",
    "ApiToken",
    "Settings",
    "get_settings",
    "secret_problem",
]

TRACKING_URI_VARIABLE = "MLFLOW_TRACKING_URI"  # MLflow's own variable: one name for one thing

# --- secrets: what a salt or a token must be (the rules are stated, the values never shown) ---
MIN_SALT_LENGTH = 32  # e.g. 16 random bytes as hex; `hepatorisk salt` writes 32 bytes as hex
MIN_TOKEN_LENGTH = 16
# values of templates and tutorials (compared without case, "-", "_" or spaces), and the
# beginnings that mark a value as "still to be filled in" (serve/.env.example uses them)
PLACEHOLDERS = frozenset(
    {"", "changeme", "changethis", "replaceme", "secret", "password", "salt", "token", "test",
     "default", "example", "none", "null", "todo", "xxx", "admin", "apitoken", "identifiersalt"}
)  # fmt: skip
PLACEHOLDER_PREFIXES = ("replace", "changeme", "changethis", "your", "example", "placeholder",
                        "insert", "fillin", "todo", "xxxx", "dummy")  # fmt: skip
MIN_DISTINCT_CHARACTERS = 8  # "aaaa..." or "0123012301230123" is not a secret


def secret_problem(value: str, min_length: int) -> str | None:
    """Why ``value`` cannot be a secret (empty, shorter than ``min_length``, a placeholder, too
    few distinct characters), else None. The answer never contains the value."""
    if not value:
        return "must be set (it is empty)"
    normal = "".join(c for c in value.lower() if c.isalnum())
    if normal in PLACEHOLDERS or normal.startswith(PLACEHOLDER_PREFIXES):
        return "is a placeholder value; set a random value"
    if len(value) < min_length:
        return f"must be at least {min_length} characters (it has {len(value)})"
    if len(set(value)) < MIN_DISTINCT_CHARACTERS:
        return f"must have at least {MIN_DISTINCT_CHARACTERS} distinct characters"
    return None


class ApiToken(BaseModel):
    """A bearer token, who holds it, and when it stops being accepted (UTC; None = never)."""

    caller: str = Field(min_length=1, max_length=100)
    token: SecretStr
    expires_at: datetime | None = None

    @field_validator("token")
    @classmethod
    def _a_real_secret(cls, token: SecretStr) -> SecretStr:
        problem = secret_problem(token.get_secret_value(), MIN_TOKEN_LENGTH)
        if problem is not None:
            raise ValueError(f"the token {problem}")
        return token

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
        default=SecretStr(""),
        description="HMAC key of every hash in the audit (patient references, inputs, comments): "
        f"at least {MIN_SALT_LENGTH} random characters (`hepatorisk salt --env-file FILE`); "
        "unset: the service refuses to start",
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

    # --- monitoring after deployment (issue 18): de-identified records, outcome feedback ---
    monitoring_db_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the monitoring store (one de-identified record per "
        "assessed patient and model, outcome feedback); unset: no monitoring record is kept",
    )
    monitoring_retention_weeks: int = Field(
        default=104, ge=1, le=520, description="weeks a monitoring record or outcome is kept"
    )

    @field_validator("identifier_salt")
    @classmethod
    def _a_real_salt(cls, salt: SecretStr) -> SecretStr:
        """A salt that is given must be a real key. Empty is "unset": refused by
        :meth:`require_secrets` at start-up (a Settings that serves nothing needs no key)."""
        value = salt.get_secret_value()
        problem = secret_problem(value, MIN_SALT_LENGTH) if value else None
        if problem is not None:
            raise ValueError(f"the identifier salt {problem}")
        return salt

    def require_secrets(self) -> None:
        """Raise :class:`ConfigError` unless the secrets a serving process needs are set: the
        identifier salt and at least one API token (their quality was checked on validation).
        The message names the setting and the rule, never a value."""
        if not self.identifier_salt.get_secret_value():
            raise ConfigError(
                f"{self.variable('identifier_salt')} is not set: the audit's keyed hashes need "
                f"a random key of at least {MIN_SALT_LENGTH} characters "
                "(create one: hepatorisk salt --env-file FILE, then serve --env-file FILE)"
            )
        if not self.api_tokens:
            raise ConfigError(
                f"{self.variable('api_tokens')} is not set: no caller could authenticate "
                "(create a token: hepatorisk token --caller NAME --env-file FILE, then "
                "serve --env-file FILE)"
            )

    @classmethod
    def variable(cls, field: str) -> str:
        """The environment variable of a field, e.g. ``HEPATORISK_IDENTIFIER_SALT``."""
        if field == "tracking_uri":
            return TRACKING_URI_VARIABLE
        return f"{cls.model_config['env_prefix']}{field.upper()}"

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
