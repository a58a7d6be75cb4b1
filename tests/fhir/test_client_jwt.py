"""CDS Hooks 2.0 client JWTs: ES384 and RS384 tokens signed in the test, keys served as a JWK Set
by a local HTTP server the test starts (or configured inline), verified by the service."""

from __future__ import annotations

import time
import uuid

import pytest
from fhir_support import AUDIENCE, cds_settings, example
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from pydantic import ValidationError
from service_support import AUTH, running

from hepatorisk.assessment.audit import AuditLog
from hepatorisk.fhir.cds_hooks import SERVICE_ID
from hepatorisk.settings import Settings

HOOK = f"/cds-services/{SERVICE_ID}"
ISSUER = "https://ehr.example.org"


@pytest.fixture(scope="module")
def keys() -> dict[str, ECKey | RSAKey]:
    return {
        "ES384": ECKey.generate_key("P-384", parameters={"kid": "ec-1"}),
        "RS384": RSAKey.generate_key(2048, parameters={"kid": "rsa-1"}),
        "other": ECKey.generate_key("P-384", parameters={"kid": "ec-1"}),  # same kid, not the EHR's
    }


def token(key: ECKey | RSAKey, alg: str, **claims: object) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "exp": now + 300, "iat": now, "jti": str(uuid.uuid4())}
    body.update(claims)
    return jwt.encode({"alg": alg, "typ": "JWT", "kid": key.kid}, body, key, algorithms=[alg])


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
def jwt_settings(settings: Settings, fhir_server, keys) -> Settings:
    public = KeySet([keys["ES384"], keys["RS384"]]).as_dict(private=False)
    fhir_server.answer("/jwks.json", public)
    issuers = [{"iss": ISSUER, "caller": "ehr-jwt", "jwks_url": f"{fhir_server.base}/jwks.json"}]
    return cds_settings(settings, cds_jwt_issuers=issuers)


@pytest.mark.parametrize("alg", ["ES384", "RS384"])
def test_a_spec_jwt_from_an_allowed_issuer_gets_a_card(jwt_settings, fhir_server, keys, alg):
    with running(jwt_settings) as client:
        r = client.post(HOOK, json=example("cds_hooks_patient_view.json"),
                        headers=bearer(token(keys[alg], alg)))  # fmt: skip
        assert r.status_code == 200, r.text
        [card] = r.json()["cards"]
        assert card["summary"].startswith("Kratom liver risk")
        again = client.post(
            HOOK,
            json=example("cds_hooks_patient_view.json"),
            headers=bearer(token(keys[alg], alg, aud=f"{AUDIENCE}/{SERVICE_ID}")),
        )
        assert again.status_code == 200, again.text  # aud = the service's own endpoint URL
    log = AuditLog(jwt_settings.audit_db_url)
    [row] = log.rows(r.headers["x-request-id"])
    log.close()
    assert row["caller"] == "ehr-jwt"  # the issuer's configured name, never the token
    # the JWK Set was fetched once and cached for the second token
    assert [p for p, _ in fhir_server.requests].count("/jwks.json") == 1


def test_bad_tokens_get_401(jwt_settings, fhir_server, keys):
    now = int(time.time())
    replayed = token(keys["ES384"], "ES384")
    cases = {
        "wrong aud": token(keys["ES384"], "ES384", aud="https://other.example.org/cds-services"),
        "expired": token(keys["ES384"], "ES384", exp=now - 3600, iat=now - 4000),
        "unknown issuer": token(keys["ES384"], "ES384", iss="https://rogue.example.org"),
        "no jti": token(keys["ES384"], "ES384", jti=None),
        "exp beyond the replay window": token(keys["ES384"], "ES384", exp=now + 86_400),
        "signed by another key": token(keys["other"], "ES384"),
        "HS256": jwt.encode(
            {"alg": "HS256"},
            {"iss": ISSUER, "aud": AUDIENCE, "exp": now + 60, "jti": "x"},
            _oct_key(),
            algorithms=["HS256"],
        ),
        "not a token": "a.b.c",
    }
    with running(jwt_settings) as client:
        first = client.post(
            HOOK, json=example("cds_hooks_patient_view.json"), headers=bearer(replayed)
        )
        assert first.status_code == 200, first.text
        cases["replayed jti"] = replayed
        for name, value in cases.items():
            r = client.post(
                HOOK, json=example("cds_hooks_patient_view.json"), headers=bearer(value)
            )
            assert r.status_code == 401, (name, r.text)
            assert r.headers["www-authenticate"] == "Bearer"
            assert value not in r.text and ISSUER not in r.text, name  # nothing sent is quoted
        # the static API token stays accepted (the JSON API's callers and existing setups)
        assert (
            client.post(HOOK, json=example("cds_hooks_patient_view.json"), headers=AUTH).status_code
            == 200
        )


def _oct_key():
    from joserfc.jwk import OctKey

    return OctKey.generate_key(256)


def test_inline_jwks_and_key_rotation(settings, fhir_server, keys):
    """Keys configured inline need no fetch; a kid missing from the cached set is refetched."""
    public = KeySet([keys["ES384"]]).as_dict(private=False)
    inline = cds_settings(
        settings, cds_jwt_issuers=[{"iss": ISSUER, "caller": "ehr", "jwks": public}]
    )
    with running(inline) as client:
        r = client.post(HOOK, json=example("cds_hooks_patient_view.json"),
                        headers=bearer(token(keys["ES384"], "ES384")))  # fmt: skip
        assert r.status_code == 200, r.text
    fhir_server.answer("/jwks.json", public)
    url = f"{fhir_server.base}/jwks.json"
    fetched = cds_settings(
        settings, cds_jwt_issuers=[{"iss": ISSUER, "caller": "ehr", "jwks_url": url}]
    )
    with running(fetched) as client:
        ok = client.post(HOOK, json=example("cds_hooks_patient_view.json"),
                         headers=bearer(token(keys["ES384"], "ES384")))  # fmt: skip
        assert ok.status_code == 200, ok.text
        # the EHR rotates to its RSA key: the cached set lacks kid rsa-1; refetched (after the
        # minimum interval between refetches, here pushed back in time)
        fhir_server.answer(
            "/jwks.json", KeySet([keys["ES384"], keys["RS384"]]).as_dict(private=False)
        )
        verifier = client.app.state.cds_jwt_verifier
        for cached in verifier._sets.values():
            cached.fetched -= 10
        r = client.post(HOOK, json=example("cds_hooks_patient_view.json"),
                        headers=bearer(token(keys["RS384"], "RS384")))  # fmt: skip
        assert r.status_code == 200, r.text
    assert [p for p, _ in fhir_server.requests].count("/jwks.json") == 2


def test_unreachable_jwks_is_401_without_detail(settings, fhir_server, keys):
    fhir_server.answer("/jwks.json", {"not": "a key set"})
    url = f"{fhir_server.base}/jwks.json"
    bad = cds_settings(
        settings, cds_jwt_issuers=[{"iss": ISSUER, "caller": "ehr", "jwks_url": url}]
    )
    with running(bad) as client:
        r = client.post(HOOK, json=example("cds_hooks_patient_view.json"),
                        headers=bearer(token(keys["ES384"], "ES384")))  # fmt: skip
    assert r.status_code == 401 and "JWK Set" in r.json()["detail"]
    assert fhir_server.base not in r.text


def test_issuer_settings_are_checked_at_start_up(settings):
    with pytest.raises(ValidationError, match="exactly one of jwks_url and jwks"):
        Settings(cds_jwt_issuers=[{"iss": ISSUER, "caller": "x"}], cds_audience=AUDIENCE)
    with pytest.raises(ValidationError, match="jwks_url must be an absolute https"):
        Settings(cds_jwt_issuers=[{"iss": ISSUER, "caller": "x", "jwks_url": "http://ehr.example.org/k"}],
                 cds_audience=AUDIENCE)  # fmt: skip
    with pytest.raises(ValidationError, match="cds_audience is required"):
        Settings(cds_jwt_issuers=[{"iss": ISSUER, "caller": "x", "jwks": {"keys": []}}])
    for field in ("model_card_url", "cds_smart_launch_url", "cds_audience"):
        with pytest.raises(ValidationError, match=f"{field} must be an absolute"):
            Settings(**{field: "/docs"})
