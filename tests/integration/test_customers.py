"""The Bank API's customers: reach, PII gating, creation, state changes."""
import pytest

from conftest import BANK_GUID, CUSTOMER_GUID

PII = ("name", "address", "aliases", "website", "date_of_birth",
       "phone_number", "email_address", "identification_numbers")
CUSTOMER_PATH = "/api/customers/" + CUSTOMER_GUID
PII_READ = "customers:read customers:pii:read"


def individual(**extra):
    body = {"type": "individual",
            "name": {"first": "Ada", "middle": "K", "last": "Lovelace"},
            "address": {"street": "12 St James's Square", "city": "London",
                        "postal_code": "SW1Y 4JH", "country_code": "GB"},
            "date_of_birth": "1815-12-10",
            "phone_number": "+442071234567",
            "email_address": "ada@example.com",
            "identification_numbers": [{
                "type": "passport", "issuing_country_code": "GB",
                "identification_number": "123456789"}],
            "labels": ["vip", "uk"]}
    body.update(extra)
    return body


def create(client, tokens, body=None):
    r = client.post("/api/customers", body or individual(),
                    token=tokens.bank)
    assert r.status == 201, r.body
    return r.json()


def assert_error(r, status, code="invalid_parameter"):
    assert r.status == status, r.body
    assert r.json()["status"] == status
    assert r.json()["message_code"] == code


def get_pii(client, tokens, guid=CUSTOMER_GUID):
    r = client.get("/api/customers/%s?include_pii=true" % guid,
                   token=tokens.bank_with(PII_READ))
    assert r.status == 200, r.body
    return r.json()


# ---- reading and PII ----------------------------------------------------


def test_customer_without_include_pii_has_pii_null(client, tokens):
    r = client.get(CUSTOMER_PATH, token=tokens.bank)
    assert r.status == 200
    c = r.json()
    assert c["guid"] == CUSTOMER_GUID and c["bank_guid"] == BANK_GUID
    assert c["type"] == "individual" and c["state"] == "verified"
    for field in PII:
        assert c[field] is None, field
    assert c["labels"] == []
    assert not [k for k in c if k.startswith("_")]


def test_include_pii_with_pii_scope_shows_pii(client, tokens):
    c = get_pii(client, tokens)
    assert c["name"]["first"] == "Jane" and c["name"]["full"] == "Jane Doe"
    assert c["address"]["city"] == "New York"
    assert c["date_of_birth"] == "1990-01-01"
    assert c["email_address"] == "jane.doe@example.com"
    assert c["phone_number"] == "+15555550100"


def test_include_pii_without_pii_scope_keeps_pii_null(client, tokens):
    r = client.get(CUSTOMER_PATH + "?include_pii=true",
                   token=tokens.bank_with("customers:read"))
    assert r.status == 200
    for field in PII:
        assert r.json()[field] is None, field


def test_pii_scope_without_include_pii_keeps_pii_null(client, tokens):
    for query in ("", "?include_pii=false"):
        r = client.get(CUSTOMER_PATH + query,
                       token=tokens.bank_with(PII_READ))
        assert r.json()["name"] is None


def test_list_applies_pii_gating_too(client, tokens):
    r = client.get("/api/customers?include_pii=true",
                   token=tokens.bank_with(PII_READ))
    assert r.json()["objects"][0]["email_address"] == "jane.doe@example.com"
    r = client.get("/api/customers?include_pii=true",
                   token=tokens.bank_with("customers:read"))
    assert r.json()["objects"][0]["email_address"] is None


def test_include_pii_reads_python_style_true(client, tokens):
    r = client.get(CUSTOMER_PATH + "?include_pii=True",
                   token=tokens.bank_with(PII_READ))
    assert r.json()["name"]["first"] == "Jane"


@pytest.mark.parametrize("value", ["yes", "1", "truee", ""])
def test_bad_include_pii_is_400(client, tokens, value):
    r = client.get(CUSTOMER_PATH + "?include_pii=" + value, token=tokens.bank)
    assert_error(r, 400)


def test_customer_token_with_pii_scope_sees_its_pii(client, tokens):
    token = tokens.customer(("customers:read", "customers:pii:read"))
    r = client.get(CUSTOMER_PATH + "?include_pii=true", token=token)
    assert r.json()["name"]["last"] == "Doe"


# ---- reach --------------------------------------------------------------


def test_customer_token_sees_only_itself(client, tokens):
    other = create(client, tokens)
    token = tokens.customer(("customers:read", "customers:write"))
    r = client.get("/api/customers", token=token)
    assert r.status == 200
    assert [c["guid"] for c in r.json()["objects"]] == [CUSTOMER_GUID]
    assert r.json()["total"] == 1
    r = client.get("/api/customers/" + other["guid"], token=token)
    assert_error(r, 404, "not_found")
    r = client.patch("/api/customers/" + other["guid"],
                     {"state": "unverified"}, token=token)
    assert_error(r, 404, "not_found")


def test_bank_and_org_tokens_see_the_banks_customers(client, tokens):
    other = create(client, tokens)
    for token in (tokens.bank, tokens.org):
        r = client.get("/api/customers", token=token)
        assert [c["guid"] for c in r.json()["objects"]] == [
            other["guid"], CUSTOMER_GUID]


def test_customers_of_another_bank_are_out_of_reach(client, tokens):
    r = client.post("/api/banks", {
        "type": "sandbox", "name": "Other", "features": [],
        "supported_trading_symbols": [], "supported_fiat_account_assets":
        ["USD"], "supported_country_codes": ["US"]}, token=tokens.org)
    other_bank = r.json()["guid"]
    r = client.get("/api/customers?bank_guid=" + other_bank,
                   token=tokens.bank)
    assert_error(r, 404, "not_found")
    r = client.get("/api/customers?bank_guid=" + other_bank, token=tokens.org)
    assert r.status == 200 and r.json()["total"] == 0


@pytest.mark.parametrize("guid", ["C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF",
                                  "c0c1", "g" * 32])
def test_malformed_customer_guid_is_400(client, tokens, guid):
    assert_error(client.get("/api/customers/" + guid, token=tokens.bank), 400)
    assert_error(client.patch("/api/customers/" + guid,
                              {"state": "unverified"}, token=tokens.bank),
                 400)


def test_unknown_customer_guid_is_404(client, tokens):
    r = client.get("/api/customers/" + "1" * 32, token=tokens.bank)
    assert_error(r, 404, "not_found")


# ---- list ---------------------------------------------------------------


def test_list_filters_by_type_guid_label_and_bank(client, tokens):
    ada = create(client, tokens)
    biz = create(client, tokens, {"type": "business",
                                  "name": {"full": "Acme Ltd"},
                                  "labels": ["b2b"]})

    def guids(query):
        r = client.get("/api/customers?" + query, token=tokens.bank)
        assert r.status == 200, r.body
        return [c["guid"] for c in r.json()["objects"]]

    assert guids("type=business") == [biz["guid"]]
    assert guids("type=individual") == [ada["guid"], CUSTOMER_GUID]
    assert guids("guid=" + ada["guid"]) == [ada["guid"]]
    assert guids("label=b2b,uk") == [biz["guid"], ada["guid"]]
    assert guids("label=none") == []
    assert guids("bank_guid=" + BANK_GUID) == [biz["guid"], ada["guid"],
                                               CUSTOMER_GUID]


def test_list_pages(client, tokens):
    made = [create(client, tokens)["guid"] for _ in range(3)]
    r = client.get("/api/customers?per_page=2&page=1", token=tokens.bank)
    body = r.json()
    assert (body["total"], body["page"], body["per_page"]) == (4, 1, 2)
    assert [c["guid"] for c in body["objects"]] == [made[0], CUSTOMER_GUID]


@pytest.mark.parametrize("query", ["type=person", "guid=abc",
                                   "bank_guid=nothex", "per_page=0",
                                   "per_page=101", "page=-2"])
def test_bad_list_parameters_are_400(client, tokens, query):
    assert_error(client.get("/api/customers?" + query, token=tokens.bank),
                 400)


# ---- create -------------------------------------------------------------


def test_create_individual_answers_201_without_pii(client, tokens):
    c = create(client, tokens)
    assert c["type"] == "individual" and c["state"] == "unverified"
    assert c["bank_guid"] == BANK_GUID
    assert c["labels"] == ["vip", "uk"]
    for field in PII:
        assert c[field] is None, field
    stored = get_pii(client, tokens, c["guid"])
    assert stored["name"] == {"first": "Ada", "middle": "K",
                              "last": "Lovelace", "full": "Ada K Lovelace"}
    assert stored["address"]["country_code"] == "GB"
    assert stored["identification_numbers"][0]["type"] == "passport"
    assert stored["date_of_birth"] == "1815-12-10"


def test_create_business_keeps_full_name_and_website(client, tokens):
    c = create(client, tokens, {"type": "business",
                                "name": {"full": "Acme Ltd"},
                                "website": "https://acme.example",
                                "aliases": [{"full": "Acme"}]})
    stored = get_pii(client, tokens, c["guid"])
    assert stored["type"] == "business"
    assert stored["name"]["full"] == "Acme Ltd"
    assert stored["website"] == "https://acme.example"
    assert stored["aliases"][0]["full"] == "Acme"


def test_create_with_type_only_is_accepted(client, tokens):
    c = create(client, tokens, {"type": "individual"})
    assert get_pii(client, tokens, c["guid"])["name"] is None


def test_org_and_customer_tokens_cannot_create_customers(client, tokens):
    for token in (tokens.org, tokens.customer()):
        r = client.post("/api/customers", individual(), token=token)
        assert r.status == 403


@pytest.mark.parametrize("change,status", [
    ({"type": None}, 400),
    ({"type": "person"}, 400),
    ({"type": 1}, 400),
    ({"name": "Ada Lovelace"}, 400),
    ({"name": {"first": "Ada"}}, 422),
    ({"name": {"first": "A" * 129, "last": "L"}}, 422),
    ({"name": {"first": "Ada", "last": "L", "nick": "x"}}, 400),
    ({"address": {"city": "London", "country_code": "GB"}}, 400),
    ({"address": {"street": "s", "city": "c", "country_code": "gb"}}, 422),
    ({"address": {"street": "s", "city": "c", "country_code": "GBR"}}, 422),
    ({"date_of_birth": "1815-13-10"}, 422),
    ({"date_of_birth": "2999-01-01"}, 422),
    ({"date_of_birth": 1815}, 400),
    ({"phone_number": "555-1234"}, 422),
    ({"email_address": "not-an-email"}, 422),
    ({"identification_numbers": []}, 422),
    ({"identification_numbers": [{"type": "library_card",
                                  "issuing_country_code": "GB",
                                  "identification_number": "1"}]}, 400),
    ({"identification_numbers": [{"type": "passport",
                                  "issuing_country_code": "GB"}]}, 400),
    ({"labels": ["l%d" % i for i in range(9)]}, 422),
    ({"labels": [3]}, 400),
    ({"labels": "vip"}, 400),
    ({"website": "https://ada.example"}, 422),
    ({"state": "verified"}, 400),
])
def test_create_refuses_bad_fields_and_stores_nothing(client, tokens, change,
                                                      status):
    r = client.post("/api/customers", individual(**change), token=tokens.bank)
    assert_error(r, status)
    r = client.get("/api/customers", token=tokens.bank)
    assert r.json()["total"] == 1


def test_create_business_without_full_name_is_422(client, tokens):
    r = client.post("/api/customers", {"type": "business",
                                       "name": {"first": "Acme"}},
                    token=tokens.bank)
    assert_error(r, 422)


# ---- update -------------------------------------------------------------


def test_patch_state_to_unverified(client, tokens):
    before = client.get(CUSTOMER_PATH, token=tokens.bank).json()
    r = client.patch(CUSTOMER_PATH, {"state": "unverified"},
                     token=tokens.bank)
    assert r.status == 200
    assert r.json()["state"] == "unverified"
    assert r.json()["updated_at"] > before["updated_at"]
    assert r.json()["created_at"] == before["created_at"]
    r = client.get(CUSTOMER_PATH, token=tokens.bank)
    assert r.json()["state"] == "unverified"


def test_customer_token_may_patch_itself(client, tokens):
    token = tokens.customer(("customers:read", "customers:write"))
    r = client.patch(CUSTOMER_PATH, {"state": "unverified"}, token=token)
    assert r.status == 200 and r.json()["state"] == "unverified"


@pytest.mark.parametrize("body,status", [
    ({"state": "verified"}, 400),
    ({"state": "frozen"}, 400),
    ({"state": 1}, 400),
    ({"type": "business"}, 400),
    ({"labels": ["x"]}, 400),
])
def test_patch_refuses_anything_but_unverified(client, tokens, body, status):
    before = client.get(CUSTOMER_PATH, token=tokens.bank).json()
    r = client.patch(CUSTOMER_PATH, body, token=tokens.bank)
    assert_error(r, status)
    assert client.get(CUSTOMER_PATH, token=tokens.bank).json() == before


def test_empty_patch_changes_nothing(client, tokens):
    before = client.get(CUSTOMER_PATH, token=tokens.bank).json()
    for body in ({}, {"state": None}):
        r = client.patch(CUSTOMER_PATH, body, token=tokens.bank)
        assert r.status == 200
        assert r.json() == before
