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
from typing import Any

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from hepatorisk.exceptions import ConfigError

__all__ = [
    "MIN_SALT_LENGTH",
    "MIN_TOKEN_LENGTH",
    "TRACKING_URI_VARIABLE",
    "ApiToken",
    "CdsIssuer",
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


# --- CDS Hooks 2.0 (issue 15): the EHRs allowed to call, and the URLs their cards lead to ---
def _absolute_url(value: str, what: str, *, loopback_http: bool = False) -> str:
    """``value`` if it is an absolute https URL (http only for a loopback host when allowed);
    the message names ``what`` and the rule, never the value."""
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme == "https" and parts.netloc:
        return value
    if parts.scheme == "http" and parts.netloc and loopback_http and loopback:
        return value
    allowed = "https (http only on localhost)" if loopback_http else "https"
    raise ValueError(f"{what} must be an absolute {allowed} URL")


class CdsIssuer(BaseModel):
    """A CDS client allowed to call the hooks with a signed JWT (CDS Hooks 2.0): its ``iss``,
    its public keys (a JWK Set URL, or the JWK Set itself), and the caller name the audit uses."""

    iss: str = Field(min_length=1, max_length=500)
    caller: str = Field(min_length=1, max_length=100)
    jwks_url: str | None = None
    jwks: dict[str, Any] | None = Field(None, description="an inline JWK Set ({'keys': [...]})")

    @field_validator("jwks_url")
    @classmethod
    def _absolute(cls, url: str | None) -> str | None:
        return None if url is None else _absolute_url(url, "jwks_url", loopback_http=True)

    @model_validator(mode="after")
    def _one_key_source(self) -> CdsIssuer:
        if (self.jwks_url is None) == (self.jwks is None):
            raise ValueError("give exactly one of jwks_url and jwks")
        if self.jwks is not None and not isinstance(self.jwks.get("keys"), list):
            raise ValueError("jwks must be a JWK Set: an object with a 'keys' array")
        return self


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
        None,
        description="absolute URL of the model card / facts page CDS cards link to (refused at "
        "start-up if not absolute); unset: cards carry no such link",
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

    # --- CDS Hooks 2.0 / FHIR (issue 15): client JWTs, fhirServer fetches, card links ---
    cds_hooks_enabled: bool = Field(
        default=True, description="serve /cds-services (off: 404, and no card URL is needed)"
    )
    cds_jwt_issuers: list[CdsIssuer] = Field(
        default_factory=list,
        description="CDS clients whose signed JWTs (ES384/RS384) are accepted on the hooks; "
        "static API tokens stay accepted too",
    )
    cds_audience: str | None = Field(
        None,
        description="this service's discovery URL as the EHR calls it (the JWT 'aud'), e.g. "
        "https://cds.example.org/cds-services; required with cds_jwt_issuers",
    )
    cds_jti_window_seconds: int = Field(
        default=600, ge=30, le=86_400, description="a JWT's jti is refused again for this long; "
        "tokens expiring later than this are refused (their replay could not be detected)"
    )  # fmt: skip
    cds_jwt_leeway_seconds: int = Field(default=30, ge=0, le=300, description="clock skew")
    cds_jwks_cache_seconds: float = Field(default=300.0, ge=0, le=86_400)
    cds_http_timeout: float = Field(
        default=5.0, gt=0, le=60, description="seconds for a JWK Set or fhirServer request"
    )
    cds_fhir_servers: list[str] = Field(
        default_factory=list,
        description="URL prefixes a hook's fhirServer must start with to be queried "
        "(empty: any https server)",
    )
    cds_fhir_server_allow_http: bool = Field(
        default=False, description="query http:// fhirServers on localhost (tests, development)"
    )
    cds_smart_launch_url: str | None = Field(
        None, description="absolute SMART app launch URL offered as a card link (optional)"
    )

    @field_validator("model_card_url", "cds_smart_launch_url", "cds_audience")
    @classmethod
    def _absolute_links(cls, url: str | None, info: ValidationInfo) -> str | None:
        """Cards and JWTs are read by the EHR and its users' browsers: a relative URL or one on
        this host's name as the service sees it would lead nowhere. Refused at start-up."""
        if url is None:
            return None
        return _absolute_url(url, info.field_name or "URL", loopback_http=True)

    @model_validator(mode="after")
    def _cds_consistent(self) -> Settings:
        if self.cds_jwt_issuers and not self.cds_audience:
            raise ValueError("cds_audience is required when cds_jwt_issuers are configured")
        return self

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
