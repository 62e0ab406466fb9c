"""The Identity API end to end: /oauth/token, customer tokens, the JWKS,
and authentication and scope checks on the request path."""
import base64
import json
import time
import urllib.parse
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import (BANK_CLIENT, BANK_GUID, CUSTOMER_GUID, ORG_CLIENT,
                      ORG_GUID, fetch_token)

BANK_AUD = "https://bank.sandbox.cybrid.app"
ISSUER = "https://id.sandbox.cybrid.app"
# A route that needs a bank token with customers:read and customers:write:
# an empty body gets 400 once the token passes, so it shows where a
# request stopped.
AUTHED = "/api/customer_tokens"


def post_form(client, fields, headers=None, path="/oauth/token"):
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    h.update(headers or {})
    return client.post(path, urllib.parse.urlencode(fields), headers=h)


def basic(user, password):
    raw = ("%s:%s" % (user, password)).encode()
    return "Basic " + base64.b64encode(raw).decode()


def oauth_error(r, status, code):
    assert r.status == status, r.body
    body = r.json()
    assert body["error"] == code, body
    assert body["error_description"]


def cybrid_error(r, status, code):
    assert r.status == status, r.body
    body = r.json()
    assert body["status"] == status
    assert body["message_code"] == code, body
    assert body["error_message"]


def authed(client, token):
    """Status of the probe route with this token: 400 means it passed."""
    return client.post(AUTHED, {}, token=token)


def claims_of(token):
    return jwt.decode(token, options={"verify_signature": False})


def jwks_key(client, kid):
    doc = client.get("/oauth/discovery/keys").json()
    return jwt.PyJWKSet.from_dict(doc)[kid].key


# ---- POST /oauth/token --------------------------------------------------

def test_token_via_json_body(client):
    body = fetch_token(client, BANK_CLIENT)
    assert set(body) == {"access_token", "token_type", "expires_in", "scope",
                         "created_at"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 28800
    assert isinstance(body["created_at"], int)
    now = client.get("/__admin/clock").json()["now"]
    assert now - 5 <= body["created_at"] <= now  # the virtual clock


def test_token_via_form_body(client):
    r = post_form(client, {"grant_type": "client_credentials",
                           "client_id": ORG_CLIENT[0],
                           "client_secret": ORG_CLIENT[1],
                           "scope": "banks:read banks:write"})
    assert r.status == 200, r.body
    assert r.json()["scope"] == "banks:read banks:write"
    assert claims_of(r.json()["access_token"])["sub"] == ORG_GUID


def test_token_via_basic_auth(client):
    r = post_form(client, {"grant_type": "client_credentials",
                           "scope": "customers:read"},
                  headers={"Authorization": basic(*BANK_CLIENT)})
    assert r.status == 200, r.body
    c = claims_of(r.json()["access_token"])
    assert c["sub"] == BANK_GUID and c["scope"] == ["customers:read"]


def test_token_answer_is_not_cacheable(client):
    r = client.post("/oauth/token", {"grant_type": "client_credentials",
                                     "client_id": BANK_CLIENT[0],
                                     "client_secret": BANK_CLIENT[1]})
    assert r.header("Cache-Control") == "no-store"
    assert r.header("Pragma") == "no-cache"


def test_no_scope_grants_every_scope_of_the_application(client):
    bank = fetch_token(client, BANK_CLIENT)["scope"].split(" ")
    org = fetch_token(client, ORG_CLIENT)["scope"].split(" ")
    assert "customers:execute" in bank and "banks:write" in bank
    assert not [s for s in bank if s.startswith("subscription")]
    assert "banks:execute" not in bank
    assert "subscriptions:execute" in org and "banks:execute" in org
    assert "customers:write" not in org
    for dropped in ("users:execute", "bank_applications:execute"):
        assert dropped not in bank + org


def test_wrong_secret_is_401_invalid_client(client):
    r = client.post("/oauth/token", {"grant_type": "client_credentials",
                                     "client_id": BANK_CLIENT[0],
                                     "client_secret": "not-the-secret"})
    oauth_error(r, 401, "invalid_client")
    r = client.post("/oauth/token", {"grant_type": "client_credentials",
                                     "client_id": "nobody",
                                     "client_secret": BANK_CLIENT[1]})
    oauth_error(r, 401, "invalid_client")


def test_wrong_basic_secret_is_401_with_www_authenticate(client):
    r = post_form(client, {"grant_type": "client_credentials"},
                  headers={"Authorization": basic(BANK_CLIENT[0], "nope")})
    oauth_error(r, 401, "invalid_client")
    assert r.header("WWW-Authenticate").startswith("Basic")
    r = post_form(client, {"grant_type": "client_credentials"},
                  headers={"Authorization": "Basic !!!notbase64"})
    oauth_error(r, 401, "invalid_client")


def test_secret_in_body_and_basic_at_once_is_refused(client):
    r = post_form(client, {"grant_type": "client_credentials",
                           "client_secret": BANK_CLIENT[1]},
                  headers={"Authorization": basic(*BANK_CLIENT)})
    oauth_error(r, 400, "invalid_request")


def test_unknown_scope_is_400_invalid_scope(client):
    r = client.post("/oauth/token", {"grant_type": "client_credentials",
                                     "client_id": BANK_CLIENT[0],
                                     "client_secret": BANK_CLIENT[1],
                                     "scope": "banks:read banks:fly"})
    oauth_error(r, 400, "invalid_scope")
    assert "banks:fly" in r.json()["error_description"]


@pytest.mark.parametrize("scope", [
    "subscriptions:read",          # bank credentials never hold it
    "banks:execute",               # organization only
    "",                            # empty
    " banks:read",                 # odd whitespace
    "banks:read  banks:write",
    "banks:read\tbanks:write",
    "users:execute",               # only dropped scopes: nothing left
])
def test_scope_the_bank_cannot_have_is_400_invalid_scope(client, scope):
    r = client.post("/oauth/token", {"grant_type": "client_credentials",
                                     "client_id": BANK_CLIENT[0],
                                     "client_secret": BANK_CLIENT[1],
                                     "scope": scope})
    oauth_error(r, 400, "invalid_scope")


def test_application_and_user_write_scopes_are_dropped(client):
    body = fetch_token(client, ORG_CLIENT,
                       "banks:read organization_applications:execute "
                       "users:write users:read")
    assert body["scope"] == "users:read banks:read"
    assert claims_of(body["access_token"])["scope"] == ["users:read",
                                                        "banks:read"]


@pytest.mark.parametrize("grant", ["refresh_token", "password",
                                   "authorization_code"])
def test_other_grants_are_400_unsupported_grant_type(client, grant):
    r = client.post("/oauth/token", {"grant_type": grant,
                                     "refresh_token": "x",
                                     "client_id": BANK_CLIENT[0],
                                     "client_secret": BANK_CLIENT[1]})
    oauth_error(r, 400, "unsupported_grant_type")


@pytest.mark.parametrize("body", [
    {"client_id": BANK_CLIENT[0], "client_secret": BANK_CLIENT[1]},
    {"grant_type": "client_credentials", "client_id": BANK_CLIENT[0]},
    {"grant_type": "client_credentials", "client_secret": BANK_CLIENT[1]},
    {"grant_type": 7, "client_id": BANK_CLIENT[0],
     "client_secret": BANK_CLIENT[1]},
    {"grant_type": "client_credentials", "client_id": BANK_CLIENT[0],
     "client_secret": BANK_CLIENT[1], "scope": ["banks:read"]},
])
def test_missing_or_mistyped_parameters_are_400_invalid_request(client,
                                                                 body):
    oauth_error(client.post("/oauth/token", body), 400, "invalid_request")


def test_malformed_bodies_are_400_invalid_request(client):
    h = {"Content-Type": "application/json"}
    dup = ('{"grant_type": "client_credentials", "client_id": "%s", '
           '"client_secret": "%s", "client_secret": "x"}' % BANK_CLIENT)
    for raw in ("{", "[]", '"x"', "", dup):
        r = client.post("/oauth/token", raw, headers=h)
        oauth_error(r, 400, "invalid_request")
    r = client.post("/oauth/token", "grant_type=client_credentials",
                    headers={"Content-Type": "text/plain"})
    oauth_error(r, 400, "invalid_request")
    r = post_form(client, [("grant_type", "client_credentials"),
                           ("client_id", BANK_CLIENT[0]),
                           ("client_secret", BANK_CLIENT[1]),
                           ("client_secret", "other")])
    oauth_error(r, 400, "invalid_request")


def test_credentials_in_query_string_are_refused_and_never_logged(
        start_mock):
    m = start_mock()
    c = m.client()
    secret = "query-secret-4f1c9e"
    q = urllib.parse.urlencode({"grant_type": "client_credentials",
                                "client_id": BANK_CLIENT[0],
                                "client_secret": secret})
    r = c.post("/oauth/token?" + q, {"grant_type": "client_credentials",
                                     "client_id": BANK_CLIENT[0],
                                     "client_secret": BANK_CLIENT[1]})
    oauth_error(r, 400, "invalid_request")
    assert secret not in r.body.decode()
    c.close()
    m.stop()
    err = m.stderr()
    assert "/oauth/token" in err  # the request was logged ...
    assert secret not in err      # ... without its query
    assert BANK_CLIENT[1] not in err


def test_issued_tokens_and_secrets_never_reach_the_log(start_mock):
    m = start_mock()
    c = m.client()
    token = fetch_token(c, BANK_CLIENT)["access_token"]
    authed(c, token)
    authed(c, token + "x")
    c.close()
    m.stop()
    err = m.stderr()
    assert "token_issued" in err
    for part in token.split("."):
        assert part not in err
    assert BANK_CLIENT[1] not in err


# ---- JWTs and the JWKS --------------------------------------------------

def test_jwt_verifies_with_pyjwt_against_the_served_jwks(client):
    token = fetch_token(client, BANK_CLIENT)["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS512"
    key = jwks_key(client, header["kid"])
    c = jwt.decode(token, key, algorithms=["RS512"], audience=BANK_AUD,
                   issuer=ISSUER)
    assert set(c) == {"iss", "aud", "sub", "sub_type", "scope", "iat", "exp",
                      "jti", "token_type", "properties"}
    assert isinstance(c["aud"], list) and BANK_AUD in c["aud"]
    assert c["sub"] == BANK_GUID and c["sub_type"] == "bank"
    assert isinstance(c["scope"], list) and "banks:read" in c["scope"]
    assert c["exp"] - c["iat"] == 28800
    assert uuid.UUID(c["jti"]).version == 4
    assert c["token_type"] == "access"
    assert c["properties"] == {"type": "sandbox"}


def test_organization_token_claims(client):
    token = fetch_token(client, ORG_CLIENT)["access_token"]
    key = jwks_key(client, jwt.get_unverified_header(token)["kid"])
    c = jwt.decode(token, key, algorithms=["RS512"], audience=BANK_AUD)
    assert c["sub"] == ORG_GUID and c["sub_type"] == "organization"
    assert "subscriptions:read" in c["scope"]


def test_both_jwks_paths_serve_one_rsa_key(client):
    a = client.get("/oauth/discovery/keys")
    b = client.get("/.well-known/jwks.json")
    assert a.status == 200 and b.status == 200
    assert a.header("Content-Type").startswith("application/json")
    assert a.json() == b.json()
    (k,) = a.json()["keys"]
    assert k["kty"] == "RSA" and k["use"] == "sig" and k["alg"] == "RS512"
    assert k["e"] == "AQAB" and k["kid"] and k["n"]
    assert "d" not in k and "p" not in k


def test_every_token_has_its_own_jti(client):
    a = claims_of(fetch_token(client, BANK_CLIENT)["access_token"])
    b = claims_of(fetch_token(client, BANK_CLIENT)["access_token"])
    assert a["jti"] != b["jti"]


def test_restart_with_same_tls_dir_keeps_issued_tokens_valid(start_mock,
                                                             tmp_path):
    first = start_mock(tls_dir=tmp_path / "shared")
    c = first.client()
    token = fetch_token(c, BANK_CLIENT)["access_token"]
    kid = c.get("/oauth/discovery/keys").json()["keys"][0]["kid"]
    c.close()
    first.stop()
    second = start_mock(tls_dir=tmp_path / "shared")
    c = second.client()
    assert c.get("/oauth/discovery/keys").json()["keys"][0]["kid"] == kid
    assert authed(c, token).status == 400
    c.close()
    other = start_mock(tls_dir=tmp_path / "other", fresh_key=True)
    c = other.client()
    cybrid_error(authed(c, token), 401, "unauthorized")
    c.close()


# ---- authentication on the request path ---------------------------------

def test_valid_bank_token_passes_authentication(client, tokens):
    r = authed(client, tokens.bank)
    cybrid_error(r, 400, "invalid_parameter")


@pytest.mark.parametrize("value", [
    None, "", "Bearer", "Bearer ", "Basic YTpi", "Token abc",
    "Bearer not-a-jwt", "Bearer a.b.c", "Bearer a b",
])
def test_missing_or_malformed_authorization_is_401(client, value):
    h = {} if value is None else {"Authorization": value}
    r = client.post(AUTHED, {}, headers=h)
    cybrid_error(r, 401, "unauthorized")
    assert r.header("WWW-Authenticate").startswith("Bearer")


def test_expired_after_clock_advance_is_401(client, tokens):
    token = tokens.bank
    assert authed(client, token).status == 400
    client.post("/__admin/clock/advance", {"seconds": 28800 - 120})
    assert authed(client, token).status == 400  # cached and still valid
    client.post("/__admin/clock/advance", {"seconds": 120})
    r = authed(client, token)
    cybrid_error(r, 401, "unauthorized")
    assert "expired" in r.json()["error_message"]
    # A fresh token works at the new time.
    fresh = fetch_token(client, BANK_CLIENT)["access_token"]
    assert authed(client, fresh).status == 400


def test_missing_scope_is_403(client, tokens):
    r = authed(client, tokens.bank_with("customers:read"))
    cybrid_error(r, 403, "forbidden")
    assert "customers:write" in r.json()["error_message"]
    r = authed(client, tokens.bank_with("customers:write"))
    cybrid_error(r, 403, "forbidden")
    assert "customers:read" in r.json()["error_message"]


def test_wrong_token_type_is_403(client, tokens):
    cybrid_error(authed(client, tokens.org), 403, "forbidden")


def forge(claims, key, alg, kid):
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def test_alg_none_token_is_401(client, tokens):
    c = claims_of(tokens.bank)
    kid = jwt.get_unverified_header(tokens.bank)["kid"]
    token = forge(c, None, "none", kid)
    cybrid_error(authed(client, token), 401, "unauthorized")


def test_hs512_token_is_401(client, tokens):
    c = claims_of(tokens.bank)
    kid = jwt.get_unverified_header(tokens.bank)["kid"]
    n = client.get("/oauth/discovery/keys").json()["keys"][0]["n"]
    token = forge(c, n, "HS512", kid)  # keyed with public material
    cybrid_error(authed(client, token), 401, "unauthorized")


def test_rs256_token_with_a_foreign_key_is_401(client, tokens):
    c = claims_of(tokens.bank)
    kid = jwt.get_unverified_header(tokens.bank)["kid"]
    pk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for alg in ("RS256", "RS512"):
        token = forge(c, pk, alg, kid)
        cybrid_error(authed(client, token), 401, "unauthorized")


def test_tampered_payload_is_401(client, tokens):
    h, p, s = tokens.bank.split(".")
    c = claims_of(tokens.bank)
    c["sub"] = "ffffffffffffffffffffffffffffffff"
    c["exp"] += 10 ** 6
    body = base64.urlsafe_b64encode(json.dumps(c).encode()).rstrip(b"=")
    token = ".".join([h, body.decode(), s])
    cybrid_error(authed(client, token), 401, "unauthorized")


def test_unknown_path_stays_404_whatever_the_token(client, tokens):
    for token in (None, tokens.bank, "garbage"):
        r = client.get("/api/nothing-here", token=token)
        cybrid_error(r, 404, "not_found")


def test_access_log_names_the_token_type(start_mock):
    m = start_mock()
    c = m.client()
    token = fetch_token(c, BANK_CLIENT)["access_token"]
    authed(c, token)
    c.close()
    m.stop()
    line = [x for x in m.stderr().splitlines()
            if "path=/api/customer_tokens" in x][0]
    assert "token_type=bank" in line


# ---- POST /api/customer_tokens -----------------------------------------

@pytest.mark.parametrize("body,status", [
    ({"scopes": ["customers:read"]}, 400),
    ({"customer_guid": 5, "scopes": ["customers:read"]}, 400),
    ({"customer_guid": "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF",
      "scopes": ["customers:read"]}, 400),
    ({"customer_guid": "g0c1c2c3c4c5c6c7c8c9cacbcccdcecf",
      "scopes": ["customers:read"]}, 400),
    ({"customer_guid": CUSTOMER_GUID[:31], "scopes": ["customers:read"]},
     400),
    ({"customer_guid": CUSTOMER_GUID}, 400),
    ({"customer_guid": CUSTOMER_GUID, "scopes": "customers:read"}, 400),
    ({"customer_guid": CUSTOMER_GUID, "scopes": [7]}, 400),
    ({"customer_guid": CUSTOMER_GUID, "scopes": ["customers:read"],
      "extra": 1}, 400),
    ({"customer_guid": CUSTOMER_GUID, "scopes": []}, 422),
    ({"customer_guid": CUSTOMER_GUID, "scopes": ["customers:execute"]}, 422),
    ({"customer_guid": CUSTOMER_GUID, "scopes": ["banks:read"]}, 422),
    ({"customer_guid": CUSTOMER_GUID, "scopes": ["nope:read"]}, 422),
    ({"customer_guid": "ffffffffffffffffffffffffffffffff",
      "scopes": ["customers:read"]}, 422),
])
def test_customer_token_bad_input(client, tokens, body, status):
    r = client.post("/api/customer_tokens", body, token=tokens.bank)
    cybrid_error(r, status, "invalid_parameter")


def test_customer_token_malformed_json_and_content_type(client, tokens):
    r = client.post("/api/customer_tokens", "{", token=tokens.bank,
                    headers={"Content-Type": "application/json"})
    cybrid_error(r, 400, "invalid_json")
    r = client.post("/api/customer_tokens", "x", token=tokens.bank,
                    headers={"Content-Type": "text/plain"})
    assert r.status == 415


def test_customer_token_for_default_customer(client, tokens):
    r = client.post("/api/customer_tokens",
                    {"customer_guid": CUSTOMER_GUID,
                     "scopes": ["customers:read", "accounts:read"]},
                    token=tokens.bank)
    assert r.status == 201, r.body
    assert list(r.json()) == ["access_token"]
    token = r.json()["access_token"]
    key = jwks_key(client, jwt.get_unverified_header(token)["kid"])
    c = jwt.decode(token, key, algorithms=["RS512"], audience=BANK_AUD)
    assert c["sub"] == CUSTOMER_GUID and c["sub_type"] == "customer"
    assert c["scope"] == ["customers:read", "accounts:read"]
    assert c["properties"] == {"bank_guid": BANK_GUID,
                               "bank_type": "sandbox"}
    assert c["exp"] - c["iat"] == 28800
    # A customer token cannot make customer tokens.
    cybrid_error(authed(client, token), 403, "forbidden")


# ---- scenarios: lifetimes, application scopes, ip_allowlist -------------

APPS = """\
name: identity-apps
description: The default fixtures with changed applications.
extends: default
%(extra)s
fixtures:
  applications:
    - kind: bank
      client_id: mock-bank-client-id
      client_secret: mock-bank-client-secret
      owner: b0a1c2d3e4f5061728394a5b6c7d8e9f
      scopes: %(bank_scopes)s
      ip_allowlist: %(bank_ips)s
    - kind: organization
      client_id: mock-org-client-id
      client_secret: mock-org-client-secret
      owner: 0f1e2d3c4b5a69788796a5b4c3d2e1f0
      ip_allowlist: %(org_ips)s
"""


def put_scenario(client, bank_ips="[]", org_ips="[]", bank_scopes="[]",
                 extra=""):
    text = APPS % {"bank_ips": bank_ips, "org_ips": org_ips,
                   "bank_scopes": bank_scopes, "extra": extra}
    r = client.put("/__admin/scenario", text,
                   headers={"Content-Type": "application/yaml"})
    assert r.status == 200, r.body


def token_status(client, credentials, headers=None):
    r = client.post("/oauth/token", {"grant_type": "client_credentials",
                                     "client_id": credentials[0],
                                     "client_secret": credentials[1]},
                    headers=headers)
    return r


def test_ip_allowlist_refuses_addresses_outside_it(client):
    put_scenario(client, bank_ips="[10.0.0.0/8, 192.0.2.7]",
                 org_ips="[127.0.0.0/8]")
    r = token_status(client, BANK_CLIENT)
    oauth_error(r, 401, "invalid_client")
    assert "ip_allowlist" in r.json()["error_description"]
    assert token_status(client, ORG_CLIENT).status == 200
    put_scenario(client, bank_ips="[127.0.0.1]")
    assert token_status(client, BANK_CLIENT).status == 200


def test_ip_allowlist_applies_from_the_next_token(client):
    token = fetch_token(client, BANK_CLIENT)["access_token"]
    put_scenario(client, bank_ips="[10.0.0.0/8]")
    oauth_error(token_status(client, BANK_CLIENT), 401, "invalid_client")
    assert authed(client, token).status == 400  # issued before: still good


def test_ip_allowlist_sees_the_client_behind_a_trusted_proxy(client):
    put_scenario(client, bank_ips="[203.0.113.0/24]",
                 extra="rate_limits:\n  trusted_proxies: [127.0.0.1]")
    xff = {"X-Forwarded-For": "203.0.113.9"}
    assert token_status(client, BANK_CLIENT, xff).status == 200
    oauth_error(token_status(client, BANK_CLIENT), 401, "invalid_client")
    other = {"X-Forwarded-For": "198.51.100.1"}
    oauth_error(token_status(client, BANK_CLIENT, other), 401,
                "invalid_client")


def test_untrusted_peer_cannot_claim_an_allowed_address(client):
    put_scenario(client, bank_ips="[203.0.113.0/24]")
    xff = {"X-Forwarded-For": "203.0.113.9"}
    oauth_error(token_status(client, BANK_CLIENT, xff), 401,
                "invalid_client")


def test_application_scopes_limit_what_is_granted(client):
    put_scenario(client, bank_scopes="[banks:read, customers:read]")
    body = fetch_token(client, BANK_CLIENT)
    assert body["scope"] == "banks:read customers:read"
    r = client.post("/oauth/token", {"grant_type": "client_credentials",
                                     "client_id": BANK_CLIENT[0],
                                     "client_secret": BANK_CLIENT[1],
                                     "scope": "banks:read banks:write"})
    oauth_error(r, 400, "invalid_scope")
    assert "banks:write" in r.json()["error_description"]


def test_scenario_sets_token_lifetimes(client):
    put_scenario(client, extra="tokens:\n  bank_ttl: 60s\n"
                               "  organization_ttl: 2m")
    bank = fetch_token(client, BANK_CLIENT)
    org = fetch_token(client, ORG_CLIENT)
    assert bank["expires_in"] == 60 and org["expires_in"] == 120
    c = claims_of(bank["access_token"])
    assert c["exp"] - c["iat"] == 60
    assert authed(client, bank["access_token"]).status == 400
    client.post("/__admin/clock/advance", {"seconds": 60})
    cybrid_error(authed(client, bank["access_token"]), 401, "unauthorized")


# ---- customer tokens across banks and customers -------------------------

OTHER_BANK = "2222222222222222222222222222aaaa"
OTHER_CUSTOMER = "e0e1e2e3e4e5e6e7e8e9eaebecedeeef"   # of OTHER_BANK
SIBLING = "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf"          # of the default bank
OTHER_CLIENT = ("other-bank-client-id", "other-bank-client-secret")

TWO_BANKS = """\
name: two-banks
description: A second bank with its own customer and application.
extends: default
fixtures:
  banks:
    - guid: %(bank)s
      organization_guid: %(org)s
      name: Mock Sandbox Bank
    - guid: %(other_bank)s
      organization_guid: %(org)s
      name: Other Bank
  applications:
    - kind: bank
      client_id: mock-bank-client-id
      client_secret: mock-bank-client-secret
      owner: %(bank)s
    - kind: organization
      client_id: mock-org-client-id
      client_secret: mock-org-client-secret
      owner: %(org)s
    - kind: bank
      client_id: other-bank-client-id
      client_secret: other-bank-client-secret
      owner: %(other_bank)s
  customers:
    - guid: %(customer)s
      bank_guid: %(bank)s
      first_name: Jane
      last_name: Doe
    - guid: %(sibling)s
      bank_guid: %(bank)s
      first_name: John
      last_name: Roe
    - guid: %(other_customer)s
      bank_guid: %(other_bank)s
      first_name: Ann
      last_name: Poe
""" % {"bank": BANK_GUID, "org": ORG_GUID, "other_bank": OTHER_BANK,
       "customer": CUSTOMER_GUID, "sibling": SIBLING,
       "other_customer": OTHER_CUSTOMER}


def two_banks(client):
    r = client.put("/__admin/scenario", TWO_BANKS,
                   headers={"Content-Type": "application/yaml"})
    assert r.status == 200, r.body


def customer_token_status(client, token, customer):
    return client.post("/api/customer_tokens",
                       {"customer_guid": customer,
                        "scopes": ["customers:read"]}, token=token)


def test_customer_token_for_another_banks_customer_is_422(client, tokens):
    two_banks(client)
    other = fetch_token(client, OTHER_CLIENT)["access_token"]
    assert customer_token_status(client, other, OTHER_CUSTOMER).status == 201
    r = customer_token_status(client, tokens.bank, OTHER_CUSTOMER)
    cybrid_error(r, 422, "invalid_parameter")
    r = customer_token_status(client, other, CUSTOMER_GUID)
    cybrid_error(r, 422, "invalid_parameter")


def test_customer_token_used_on_another_customer_is_404(client, tokens):
    two_banks(client)
    mine = tokens.customer(["customers:read"])
    assert client.get("/api/customers/" + CUSTOMER_GUID,
                      token=mine).status == 200
    for other in (SIBLING, OTHER_CUSTOMER):
        r = client.get("/api/customers/" + other, token=mine)
        cybrid_error(r, 404, "not_found")


@pytest.mark.parametrize("scopes,reason", [
    ("[banks:read, banks:fly]", 'bad scope "banks:fly"'),
    ("[banks:read, subscriptions:read]",
     "bank applications cannot hold subscriptions:read"),
    ("[banks:execute]", "bank applications cannot hold banks:execute"),
])
def test_scenario_refuses_scopes_an_application_cannot_hold(client, scopes,
                                                            reason):
    text = APPS % {"bank_ips": "[]", "org_ips": "[]", "bank_scopes": scopes,
                   "extra": ""}
    r = client.put("/__admin/scenario", text,
                   headers={"Content-Type": "application/yaml"})
    cybrid_error(r, 400, "invalid_scenario")
    assert reason in r.json()["error_message"]
    assert fetch_token(client, BANK_CLIENT)["expires_in"] == 28800


# ---- customer tokens: the SDK's scope list and ip_allowlists -------------

def sdk_customer_scopes():
    from cybrid_api_id.model.post_customer_token import PostCustomerToken
    return sorted(PostCustomerToken.allowed_values[("scopes",)].values())


def test_every_customer_scope_of_the_official_sdk_is_accepted(client,
                                                              tokens):
    scopes = sdk_customer_scopes()
    assert "customers:execute" not in scopes
    # An unknown customer: the scopes pass and the customer check answers.
    r = client.post("/api/customer_tokens",
                    {"customer_guid": "ffffffffffffffffffffffffffffffff",
                     "scopes": scopes}, token=tokens.bank)
    cybrid_error(r, 422, "invalid_parameter")
    assert "does not exist" in r.json()["error_message"]


@pytest.mark.parametrize("extra", [
    {"inherit_ip_allowlist": "yes"},
    {"ip_allowlist": "10.0.0.0/8"},
    {"ip_allowlist": ["10.0.0.0/33"]},
    {"ip_allowlist": ["2001:db8::/32"]},
    {"ip_allowlist": [7]},
    {"ip_allowlist": ["10.0.0.%d" % i for i in range(17)]},
])
def test_customer_token_bad_ip_allowlist_is_400(client, tokens, extra):
    body = {"customer_guid": CUSTOMER_GUID, "scopes": ["customers:read"]}
    body.update(extra)
    r = client.post("/api/customer_tokens", body, token=tokens.bank)
    cybrid_error(r, 400, "invalid_parameter")


def customer_token_with(client, bank_token, **extra):
    body = {"customer_guid": CUSTOMER_GUID, "scopes": ["customers:read"]}
    body.update(extra)
    r = client.post("/api/customer_tokens", body, token=bank_token)
    assert r.status == 201, r.body
    return r.json()["access_token"]


def test_customer_token_ip_allowlist_is_enforced(client, tokens):
    me = "/api/customers/" + CUSTOMER_GUID
    far = customer_token_with(client, tokens.bank,
                              ip_allowlist=["10.0.0.0/8"])
    assert claims_of(far)["properties"]["ip_allowlist"] == ["10.0.0.0/8"]
    cybrid_error(client.get(me, token=far), 401, "unauthorized")
    near = customer_token_with(client, tokens.bank,
                               ip_allowlist=["127.0.0.0/8", "10.0.0.0/8"])
    assert client.get(me, token=near).status == 200


def test_customer_token_inherits_the_bank_allowlist(client, tokens):
    put_scenario(client, bank_ips="[127.0.0.1]",
                 extra="rate_limits:\n  trusted_proxies: [127.0.0.1]")
    me = "/api/customers/" + CUSTOMER_GUID
    bank = fetch_token(client, BANK_CLIENT)["access_token"]
    inherited = customer_token_with(client, bank)
    assert claims_of(inherited)["properties"]["inherited_ip_allowlist"] == \
        ["127.0.0.1"]
    away = {"X-Forwarded-For": "203.0.113.9"}
    assert client.get(me, token=inherited).status == 200
    r = client.get(me, token=inherited, headers=away)
    cybrid_error(r, 401, "unauthorized")
    free = customer_token_with(client, bank, inherit_ip_allowlist=False)
    assert "inherited_ip_allowlist" not in claims_of(free)["properties"]
    assert client.get(me, token=free, headers=away).status == 200


def test_official_id_sdk_creates_a_customer_token(mock, client, tokens):
    import cybrid_api_id as api
    from cybrid_api_id.api import customer_tokens_idp_api
    from cybrid_api_id.model.post_customer_token import PostCustomerToken

    conf = api.Configuration(host=mock.url)
    conf.access_token = tokens.bank
    conf.ssl_ca_cert = mock.ca
    with api.ApiClient(conf) as c:
        made = customer_tokens_idp_api.CustomerTokensIdpApi(
            c).create_customer_token(PostCustomerToken(
                customer_guid=CUSTOMER_GUID, scopes=["customers:read"]))
    assert claims_of(made.access_token)["sub"] == CUSTOMER_GUID
