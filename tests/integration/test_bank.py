"""The Bank API's banks: reach, validation, PATCH semantics, pagination."""
import pytest

from conftest import BANK_GUID, ORG_GUID

CORS_MESSAGE = "CORS allowed origins must all be valid HTTPS URIs"
BANK_PATH = "/api/banks/" + BANK_GUID


def new_bank_body(name="Second Bank", **extra):
    body = {"type": "sandbox", "name": name,
            "supported_trading_symbols": ["BTC-USD"],
            "supported_fiat_account_assets": ["USD"],
            "supported_country_codes": ["US"],
            "features": ["attestation_identity_records"]}
    body.update(extra)
    return body


def create_bank(client, tokens, name="Second Bank", **extra):
    r = client.post("/api/banks", new_bank_body(name, **extra),
                    token=tokens.org)
    assert r.status == 201, r.body
    return r.json()


def get_bank(client, tokens, guid=BANK_GUID):
    r = client.get("/api/banks/" + guid, token=tokens.org)
    assert r.status == 200, r.body
    return r.json()


def assert_error(r, status, message=None, code="invalid_parameter"):
    assert r.status == status, r.body
    body = r.json()
    assert body["status"] == status
    assert body["message_code"] == code
    if message is not None:
        assert body["error_message"] == message


# ---- reading ------------------------------------------------------------


def test_bank_has_every_field_of_the_sdk_model(client, tokens):
    bank = get_bank(client, tokens)
    assert bank["guid"] == BANK_GUID
    assert bank["organization_guid"] == ORG_GUID
    assert bank["type"] == "sandbox"
    assert bank["name"] == "Mock Sandbox Bank"
    assert bank["cors_allowed_origins"] == ["http://localhost:3000"]
    for field in ("supported_trading_symbols", "supported_payout_symbols",
                  "supported_fiat_account_assets", "supported_country_codes",
                  "features"):
        assert isinstance(bank[field], list), field
    assert bank["created_at"].endswith("Z")
    assert bank["updated_at"] == bank["created_at"]
    assert not [k for k in bank if k.startswith("_")]


def test_org_token_lists_banks_of_its_organization(client, tokens):
    second = create_bank(client, tokens)
    r = client.get("/api/banks", token=tokens.org)
    assert r.status == 200
    body = r.json()
    assert body["total"] == 2
    assert body["page"] == 0 and body["per_page"] == 10
    assert [b["guid"] for b in body["objects"]] == [second["guid"], BANK_GUID]


def test_bank_token_lists_only_its_own_bank(client, tokens):
    create_bank(client, tokens)
    r = client.get("/api/banks", token=tokens.bank)
    assert r.status == 200
    assert r.json()["total"] == 1
    assert r.json()["objects"][0]["guid"] == BANK_GUID


def test_bank_token_gets_404_for_another_bank(client, tokens):
    second = create_bank(client, tokens)
    r = client.get("/api/banks/" + second["guid"], token=tokens.bank)
    assert_error(r, 404, code="not_found")
    r = client.patch("/api/banks/" + second["guid"], {"name": "x"},
                     token=tokens.bank)
    assert_error(r, 404, code="not_found")
    assert get_bank(client, tokens, second["guid"])["name"] == "Second Bank"


def test_org_token_reaches_a_bank_it_created(client, tokens):
    second = create_bank(client, tokens)
    assert get_bank(client, tokens, second["guid"]) == second


def test_customer_token_cannot_read_banks(client, tokens):
    r = client.get("/api/banks", token=tokens.customer())
    assert r.status == 403


@pytest.mark.parametrize("guid", ["B0A1C2D3E4F5061728394A5B6C7D8E9F",
                                  "b0a1c2d3", "zz" * 16, BANK_GUID + "0"])
def test_malformed_bank_guid_is_400(client, tokens, guid):
    assert_error(client.get("/api/banks/" + guid, token=tokens.org), 400)
    assert_error(client.patch("/api/banks/" + guid, {"name": "x"},
                              token=tokens.org), 400)


def test_unknown_bank_guid_is_404(client, tokens):
    r = client.get("/api/banks/" + "0" * 32, token=tokens.org)
    assert_error(r, 404, code="not_found")
    r = client.patch("/api/banks/" + "0" * 32, {"name": "x"},
                     token=tokens.org)
    assert_error(r, 404, code="not_found")


# ---- pagination and filters --------------------------------------------


def test_list_pages_newest_first(client, tokens):
    made = [create_bank(client, tokens, "Bank %d" % i)["guid"]
            for i in range(3)]
    newest_first = made[::-1] + [BANK_GUID]
    r = client.get("/api/banks?per_page=1&page=1", token=tokens.org)
    body = r.json()
    assert body == {"total": 4, "page": 1, "per_page": 1,
                    "objects": body["objects"]}
    assert [b["guid"] for b in body["objects"]] == [newest_first[1]]
    r = client.get("/api/banks?per_page=3&page=1", token=tokens.org)
    assert [b["guid"] for b in r.json()["objects"]] == [BANK_GUID]


def test_page_past_the_end_is_empty_with_total(client, tokens):
    r = client.get("/api/banks?page=5", token=tokens.org)
    assert r.status == 200
    assert r.json() == {"total": 1, "page": 5, "per_page": 10, "objects": []}


@pytest.mark.parametrize("query", ["per_page=1", "per_page=100", "page=0"])
def test_page_bounds_are_accepted(client, tokens, query):
    r = client.get("/api/banks?" + query, token=tokens.org)
    assert r.status == 200
    assert len(r.json()["objects"]) == 1


@pytest.mark.parametrize("query", ["per_page=0", "per_page=101",
                                   "per_page=-1", "per_page=abc", "page=-1",
                                   "page=1.5", "page=", "per_page=1e2"])
def test_bad_page_values_are_400(client, tokens, query):
    assert_error(client.get("/api/banks?" + query, token=tokens.org), 400)


def test_list_filters_by_type_and_guid(client, tokens):
    second = create_bank(client, tokens)
    r = client.get("/api/banks?type=production", token=tokens.org)
    assert r.json()["total"] == 0
    r = client.get("/api/banks?type=sandbox,production", token=tokens.org)
    assert r.json()["total"] == 2
    r = client.get("/api/banks?guid=" + second["guid"], token=tokens.org)
    assert [b["guid"] for b in r.json()["objects"]] == [second["guid"]]
    r = client.get("/api/banks?guid=%s,%s" % (second["guid"], BANK_GUID),
                   token=tokens.org)
    assert r.json()["total"] == 2


@pytest.mark.parametrize("query", ["type=bogus", "type=sandbox,", "guid=xyz",
                                   "guid=" + BANK_GUID.upper()])
def test_bad_list_filters_are_400(client, tokens, query):
    assert_error(client.get("/api/banks?" + query, token=tokens.org), 400)


# ---- create -------------------------------------------------------------


def test_create_bank_answers_201_with_the_bank(client, tokens):
    bank = create_bank(client, tokens, cors_allowed_origins=[
        "https://app.example.com"])
    assert len(bank["guid"]) == 32 and bank["guid"] != BANK_GUID
    assert bank["organization_guid"] == ORG_GUID
    assert bank["type"] == "sandbox"
    assert bank["cors_allowed_origins"] == ["https://app.example.com"]
    assert bank["supported_payout_symbols"] == []


def test_create_production_bank_is_refused(client, tokens):
    r = client.post("/api/banks", new_bank_body(type="production"),
                    token=tokens.org)
    assert_error(r, 422)


def test_bank_token_cannot_create_banks(client, tokens):
    r = client.post("/api/banks", new_bank_body(), token=tokens.bank)
    assert r.status == 403


@pytest.mark.parametrize("change,status", [
    ({"type": "bogus"}, 400),
    ({"name": None}, 400),
    ({"name": 7}, 400),
    ({"name": ""}, 422),
    ({"name": "x" * 129}, 422),
    ({"features": ["no_such_feature"]}, 400),
    ({"features": "attestation_identity_records"}, 400),
    ({"supported_trading_symbols": ["BTC-USD"] * 51}, 422),
    ({"supported_trading_symbols": ["btc-usd"]}, 422),
    ({"supported_fiat_account_assets": []}, 422),
    ({"supported_country_codes": ["US", "CA"]}, 422),
    ({"cors_allowed_origins": ["http://yourdomain.com"]}, 422),
    ({"extra": 1}, 400),
])
def test_create_bank_refuses_bad_fields(client, tokens, change, status):
    body = new_bank_body()
    body.update(change)
    r = client.post("/api/banks", body, token=tokens.org)
    assert_error(r, status)
    r = client.get("/api/banks", token=tokens.org)
    assert r.json()["total"] == 1


def test_create_bank_without_required_field_is_400(client, tokens):
    body = new_bank_body()
    del body["features"]
    assert_error(client.post("/api/banks", body, token=tokens.org), 400)


def test_create_bank_name_of_128_characters_is_accepted(client, tokens):
    assert create_bank(client, tokens, "n" * 128)["name"] == "n" * 128


# ---- PATCH semantics ----------------------------------------------------


def patch(client, tokens, body, token=None):
    return client.patch(BANK_PATH, body, token=token or tokens.org)


def test_patch_replaces_the_origin_list(client, tokens):
    origins = ["https://yourdomain.com", "https://app.yourdomain.com",
               "http://localhost:3000"]
    r = patch(client, tokens, {"cors_allowed_origins": origins})
    assert r.status == 200
    assert r.json()["cors_allowed_origins"] == origins
    r = patch(client, tokens, {"cors_allowed_origins": ["https://b.example"]})
    assert r.json()["cors_allowed_origins"] == ["https://b.example"]
    assert get_bank(client, tokens)["cors_allowed_origins"] == [
        "https://b.example"]


def test_patch_without_the_field_leaves_origins(client, tokens):
    r = patch(client, tokens, {"name": "Renamed"})
    assert r.status == 200
    assert r.json()["name"] == "Renamed"
    assert r.json()["cors_allowed_origins"] == ["http://localhost:3000"]


def test_patch_with_null_leaves_origins(client, tokens):
    r = patch(client, tokens, {"cors_allowed_origins": None, "name": None})
    assert r.status == 200
    bank = get_bank(client, tokens)
    assert bank["cors_allowed_origins"] == ["http://localhost:3000"]
    assert bank["name"] == "Mock Sandbox Bank"


def test_patch_with_empty_list_clears_origins(client, tokens):
    r = patch(client, tokens, {"cors_allowed_origins": []})
    assert r.status == 200
    assert r.json()["cors_allowed_origins"] == []
    assert get_bank(client, tokens)["cors_allowed_origins"] == []


def test_patch_by_bank_token_is_accepted(client, tokens):
    r = patch(client, tokens, {"cors_allowed_origins": ["https://a.example"]},
              token=tokens.bank)
    assert r.status == 200
    assert r.json()["cors_allowed_origins"] == ["https://a.example"]


def test_patch_accepts_localhost_with_and_without_port(client, tokens):
    origins = ["http://localhost", "http://localhost:3000",
               "https://localhost:8443"]
    r = patch(client, tokens, {"cors_allowed_origins": origins})
    assert r.status == 200
    assert r.json()["cors_allowed_origins"] == origins


BAD_ORIGINS = [
    "http://127.0.0.1:3000", "http://yourdomain.com", "http://localhost.",
    "http://localhost.evil.com", "http://localhost:0",
    "https://yourdomain.com/", "https://yourdomain.com/app",
    "https://yourdomain.com?a=1", "https://yourdomain.com#x",
    "https://user@yourdomain.com", "https://*.yourdomain.com", "*",
    "https://", "https://:443", "https://yourdomain.com:0",
    "https://yourdomain.com:65536", "https://yourdomain.com:80a",
    "ftp://yourdomain.com", "yourdomain.com", "", 1, None, True, {}, [],
]


@pytest.mark.parametrize("origin", BAD_ORIGINS)
def test_cors_rejects_bad_origin_with_the_guides_message(client, tokens,
                                                         origin):
    before = get_bank(client, tokens)
    r = patch(client, tokens,
              {"cors_allowed_origins": ["https://ok.example", origin]})
    assert_error(r, 422, CORS_MESSAGE)
    assert get_bank(client, tokens) == before


def test_rejected_patch_changes_no_other_field(client, tokens):
    before = get_bank(client, tokens)
    r = patch(client, tokens, {
        "name": "Should Not Stick",
        "supported_trading_symbols": ["ETH-USD"],
        "cors_allowed_origins": ["https://good.example",
                                 "http://yourdomain.com"]})
    assert_error(r, 422, CORS_MESSAGE)
    assert get_bank(client, tokens) == before


def test_patch_of_51_origins_is_refused_and_50_accepted(client, tokens):
    before = get_bank(client, tokens)
    many = ["https://a%d.example.com" % i for i in range(51)]
    r = patch(client, tokens, {"cors_allowed_origins": many, "name": "N"})
    assert_error(r, 422)
    assert r.json()["error_message"] != CORS_MESSAGE
    assert "50" in r.json()["error_message"]
    assert get_bank(client, tokens) == before
    r = patch(client, tokens, {"cors_allowed_origins": many[:50]})
    assert r.status == 200
    assert len(r.json()["cors_allowed_origins"]) == 50


def test_patch_keeps_duplicate_origins_as_sent(client, tokens):
    origins = ["https://a.example", "https://a.example"]
    r = patch(client, tokens, {"cors_allowed_origins": origins})
    assert r.status == 200
    assert r.json()["cors_allowed_origins"] == origins


def test_patch_origins_of_wrong_type_is_400(client, tokens):
    before = get_bank(client, tokens)
    r = patch(client, tokens, {"cors_allowed_origins": "https://a.example"})
    assert_error(r, 400)
    assert get_bank(client, tokens) == before


def test_updated_at_moves_on_each_accepted_change(client, tokens):
    before = get_bank(client, tokens)
    first = patch(client, tokens, {"name": "One"}).json()
    second = patch(client, tokens, {"name": "Two"}).json()
    assert before["updated_at"] < first["updated_at"] < second["updated_at"]
    assert second["created_at"] == before["created_at"]


def test_updated_at_stays_on_refused_or_empty_patch(client, tokens):
    before = get_bank(client, tokens)
    patch(client, tokens, {"cors_allowed_origins": ["http://x.example"]})
    r = patch(client, tokens, {})
    assert r.status == 200
    assert r.json() == before


@pytest.mark.parametrize("body,status", [
    ({"name": "x" * 129}, 422),
    ({"name": ""}, 422),
    ({"name": 12}, 400),
    ({"name": ["x"]}, 400),
    ({"supported_trading_symbols": ["BTC-USD"] * 51}, 422),
    ({"supported_trading_symbols": "BTC-USD"}, 400),
    ({"supported_trading_symbols": [1]}, 400),
    ({"supported_trading_symbols": ["BTCUSD"]}, 422),
    ({"supported_payout_symbols": [{"primary_asset": "MXN"}]}, 400),
    ({"supported_payout_symbols": [{
        "primary_asset": "MXN", "counter_asset": "USD", "country_code": "MX",
        "participants_type": "C2C", "route": "pigeon"}]}, 400),
    ({"type": "production"}, 400),
    ({"unknown": 1}, 400),
])
def test_patch_refuses_bad_fields_and_changes_nothing(client, tokens, body,
                                                      status):
    before = get_bank(client, tokens)
    body = dict(body, cors_allowed_origins=["https://changed.example"])
    assert_error(patch(client, tokens, body), status)
    assert get_bank(client, tokens) == before


def test_patch_name_of_128_characters_is_accepted(client, tokens):
    r = patch(client, tokens, {"name": "y" * 128})
    assert r.status == 200 and r.json()["name"] == "y" * 128


def test_patch_replaces_trading_and_payout_symbols(client, tokens):
    r = patch(client, tokens, {
        "supported_trading_symbols": ["ETH-USD"],
        "supported_payout_symbols": [{
            "primary_asset": "MXN", "counter_asset": "USD",
            "country_code": "MX", "participants_type": "C2C",
            "route": "bank_account"}]})
    assert r.status == 200
    bank = r.json()
    assert bank["supported_trading_symbols"] == ["ETH-USD"]
    assert bank["supported_payout_symbols"] == [{
        "symbol": "MXN-USD", "country_code": "MX",
        "participants_type": "C2C", "route": "bank_account"}]


def test_patch_with_malformed_json_is_400(client, tokens):
    r = client.patch(BANK_PATH, "{\"name\": ", token=tokens.org,
                     headers={"Content-Type": "application/json"})
    assert_error(r, 400, code="invalid_json")


def test_patch_with_other_content_type_is_415(client, tokens):
    r = client.patch(BANK_PATH, "name=x", token=tokens.org,
                     headers={"Content-Type": "text/plain"})
    assert r.status == 415
