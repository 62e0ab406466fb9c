"""CORS on the bank API: preflights before authentication, actual answers.

The default bank lists http://localhost:3000.
"""
import pytest

from conftest import BANK_GUID, CUSTOMER_GUID

LISTED = "http://localhost:3000"
CORS_HEADERS = ("access-control-allow-origin", "access-control-allow-methods",
                "access-control-allow-headers", "vary")
BANK_PATH = "/api/banks/" + BANK_GUID


def preflight(client, path, origin, method="GET"):
    headers = {"Access-Control-Request-Method": method,
               "Access-Control-Request-Headers":
               "authorization,content-type,x-requested-with"}
    if origin is not None:
        headers["Origin"] = origin
    return client.request("OPTIONS", path, headers=headers)


def assert_no_cors(r):
    for name in CORS_HEADERS:
        assert r.header(name) is None, name


@pytest.mark.parametrize("path,methods", [
    ("/api/banks", "GET, POST"),
    (BANK_PATH, "GET, PATCH"),
    ("/api/customers", "GET, POST"),
    ("/api/customers/" + CUSTOMER_GUID, "GET, PATCH"),
])
def test_preflight_of_listed_origin_allows_the_paths_methods(client, path,
                                                             methods):
    r = preflight(client, path, LISTED)
    assert r.status == 204
    assert r.body == b""
    assert r.header("Access-Control-Allow-Origin") == LISTED
    assert r.header("Access-Control-Allow-Methods") == methods
    assert r.header("Access-Control-Allow-Headers") == (
        "Authorization, Content-Type, X-Requested-With")
    assert r.header("Vary") == "Origin"


@pytest.mark.parametrize("origin", [
    "http://localhost:3001", "http://localhost", "https://localhost:3000",
    "http://127.0.0.1:3000", "https://evil.example", "null", "*", ""])
def test_preflight_of_unlisted_origin_gets_no_cors_headers(client, origin):
    r = preflight(client, "/api/banks", origin)
    assert r.status == 204
    assert_no_cors(r)


def test_preflight_without_origin_gets_no_cors_headers(client):
    r = preflight(client, "/api/banks", None)
    assert r.status == 204
    assert_no_cors(r)


def test_preflight_needs_no_token(client):
    r = preflight(client, BANK_PATH, LISTED, "PATCH")
    assert r.status == 204
    assert r.header("Access-Control-Allow-Origin") == LISTED


def test_preflight_for_a_malformed_guid_path_still_answers(client):
    r = preflight(client, "/api/banks/not-a-guid", LISTED)
    assert r.status == 204
    assert r.header("Access-Control-Allow-Origin") == LISTED


def test_options_outside_the_bank_api_is_405(client):
    r = client.request("OPTIONS", "/__admin/health",
                       headers={"Origin": LISTED})
    assert r.status == 405
    assert_no_cors(r)


def test_preflight_follows_the_list_as_it_changes(client, tokens):
    added = "https://app.example.com"
    assert_no_cors(preflight(client, "/api/banks", added))
    r = client.patch(BANK_PATH, {"cors_allowed_origins": [added]},
                     token=tokens.org)
    assert r.status == 200
    r = preflight(client, "/api/banks", added)
    assert r.header("Access-Control-Allow-Origin") == added
    assert_no_cors(preflight(client, "/api/banks", LISTED))
    client.patch(BANK_PATH, {"cors_allowed_origins": []}, token=tokens.org)
    assert_no_cors(preflight(client, "/api/banks", added))


def test_preflight_matches_same_origin_with_default_port(client, tokens):
    client.patch(BANK_PATH, {"cors_allowed_origins": ["https://a.example"]},
                 token=tokens.org)
    r = preflight(client, "/api/banks", "https://a.example:443")
    assert r.header("Access-Control-Allow-Origin") == "https://a.example:443"


def test_preflight_answers_for_any_bank_of_the_mock(client, tokens):
    r = client.post("/api/banks", {
        "type": "sandbox", "name": "Other", "features": [],
        "supported_trading_symbols": [], "supported_fiat_account_assets":
        ["USD"], "supported_country_codes": ["US"],
        "cors_allowed_origins": ["https://other.example"]}, token=tokens.org)
    assert r.status == 201
    r = preflight(client, "/api/banks", "https://other.example")
    assert r.header("Access-Control-Allow-Origin") == "https://other.example"


def test_actual_request_from_listed_origin_is_allowed(client, tokens):
    for token in (tokens.bank, tokens.customer()):
        r = client.get("/api/customers/" + CUSTOMER_GUID, token=token,
                       headers={"Origin": LISTED})
        assert r.status == 200
        assert r.header("Access-Control-Allow-Origin") == LISTED
        assert r.header("Vary") == "Origin"


def test_actual_request_from_unlisted_origin_gets_no_cors(client, tokens):
    for origin in ("http://localhost:4000", "https://evil.example", "*"):
        r = client.get("/api/banks", token=tokens.bank,
                       headers={"Origin": origin})
        assert r.status == 200
        assert_no_cors(r)


def test_actual_request_without_origin_gets_no_cors(client, tokens):
    assert_no_cors(client.get("/api/banks", token=tokens.bank))


def test_org_token_gets_cors_from_the_bank_in_the_path(client, tokens):
    r = client.get(BANK_PATH, token=tokens.org, headers={"Origin": LISTED})
    assert r.header("Access-Control-Allow-Origin") == LISTED
    r = client.get("/api/banks", token=tokens.org, headers={"Origin": LISTED})
    assert_no_cors(r)


def test_actual_cors_uses_the_tokens_own_bank(client, tokens):
    r = client.post("/api/banks", {
        "type": "sandbox", "name": "Other", "features": [],
        "supported_trading_symbols": [], "supported_fiat_account_assets":
        ["USD"], "supported_country_codes": ["US"],
        "cors_allowed_origins": ["https://other.example"]}, token=tokens.org)
    other = r.json()["guid"]
    r = client.get("/api/banks", token=tokens.bank,
                   headers={"Origin": "https://other.example"})
    assert_no_cors(r)
    r = client.get("/api/banks/" + other, token=tokens.org,
                   headers={"Origin": "https://other.example"})
    assert r.header("Access-Control-Allow-Origin") == "https://other.example"


def test_error_answers_carry_cors_for_a_listed_origin(client, tokens):
    r = client.get("/api/customers/" + "1" * 32, token=tokens.bank,
                   headers={"Origin": LISTED})
    assert r.status == 404
    assert r.header("Access-Control-Allow-Origin") == LISTED


def test_no_answer_ever_carries_a_wildcard_origin(client, tokens):
    for origin in ("*", LISTED, "null"):
        for r in (preflight(client, "/api/banks", origin),
                  client.get("/api/banks", token=tokens.bank,
                             headers={"Origin": origin})):
            assert r.header("Access-Control-Allow-Origin") != "*"
