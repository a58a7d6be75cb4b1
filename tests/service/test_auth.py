"""Bearer tokens: every clinical endpoint refuses a missing, wrong or expired token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from service_support import ADMIN, AUTH, TestClient, patient, wait_ready

from hepatorisk.app import create_app

CLINICAL = [
    ("post", "/v1/assess"),
    ("post", "/v1/explain"),
    ("post", "/v1/assess/batch"),
    ("get", "/v1/models"),
]


@pytest.mark.parametrize(("method", "path"), CLINICAL)
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": "Basic abc"}],
)
def test_clinical_endpoints_refuse_without_valid_token(client, method, path, headers):
    body = {"patients": [patient()]} if path.endswith("batch") else patient()
    kwargs = {"json": body} if method == "post" else {}
    r = getattr(client, method)(path, headers=headers, **kwargs)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"


def test_probes_and_metrics_are_open(client):
    assert client.get("/livez").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/metrics").status_code == 200


def test_expired_token_is_refused(settings):
    past = datetime.now(UTC) - timedelta(minutes=1)
    token = {"caller": "old", "token": "expired-token-0123456789", "expires_at": past}
    expired = type(settings).model_validate(settings.model_dump() | {"api_tokens": [token]})
    with TestClient(create_app(expired)) as c:
        wait_ready(c)
        r = c.get("/v1/models", headers={"Authorization": "Bearer expired-token-0123456789"})
    assert r.status_code == 401
    assert r.json()["detail"] == "bearer token expired"


def test_api_token_is_not_an_admin_token(client):
    assert client.post("/v1/admin/reload", headers=AUTH).status_code == 401
    assert client.get("/v1/admin/reload", headers=ADMIN).status_code == 200


def test_no_configured_token_means_closed(settings):
    closed = type(settings).model_validate(settings.model_dump() | {"api_tokens": []})
    with TestClient(create_app(closed)) as c:
        wait_ready(c)
        assert c.get("/v1/models", headers=AUTH).status_code == 401


def test_cors_closed_by_default(client):
    r = client.options(
        "/v1/assess",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in r.headers
