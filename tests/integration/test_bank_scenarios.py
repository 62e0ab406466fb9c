"""The Bank API over a scenario of two organizations: reach across
organizations and banks, fixture customer states, CORS per bank."""
import pytest

from conftest import BANK_GUID, CUSTOMER_GUID, ORG_GUID, fetch_token

OTHER_ORG = "1f1e2d3c4b5a69788796a5b4c3d2e1f0"
OTHER_BANK = "b1a1c2d3e4f5061728394a5b6c7d8e9f"
OTHER_CUSTOMER = "c1c1c2c3c4c5c6c7c8c9cacbcccdcecf"
FROZEN = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0"
STORING = "5705a6e05705a6e05705a6e05705a6e0"
BUSINESS = "b05b05b05b05b05b05b05b05b05b05b0"
OTHER_ORG_CLIENT = ("other-org-client", "other-org-secret")
OTHER_BANK_CLIENT = ("other-bank-client", "other-bank-secret")
OTHER_ORIGIN = "https://other.example"

SCENARIO = """\
name: two-organizations
extends: default
fixtures:
  organizations:
    - {guid: %(org)s, name: Mock Organization}
    - {guid: %(other_org)s, name: Other Organization}
  banks:
    - guid: %(bank)s
      organization_guid: %(org)s
      name: Mock Sandbox Bank
      supported_fiat_account_assets: [USD]
      supported_country_codes: [US]
      cors_allowed_origins: ["http://localhost:3000"]
    - guid: %(other_bank)s
      organization_guid: %(other_org)s
      name: Other Bank
      cors_allowed_origins: ["%(other_origin)s"]
  applications:
    - kind: bank
      client_id: mock-bank-client-id
      client_secret: mock-bank-client-secret
      owner: %(bank)s
    - kind: organization
      client_id: mock-org-client-id
      client_secret: mock-org-client-secret
      owner: %(org)s
    - kind: organization
      client_id: other-org-client
      client_secret: other-org-secret
      owner: %(other_org)s
    - kind: bank
      client_id: other-bank-client
      client_secret: other-bank-secret
      owner: %(other_bank)s
  customers:
    - {guid: %(customer)s, bank_guid: %(bank)s, first_name: Jane,
       last_name: Doe}
    - {guid: %(frozen)s, bank_guid: %(bank)s, state: frozen}
    - {guid: %(storing)s, bank_guid: %(bank)s, state: storing}
    - {guid: %(business)s, bank_guid: %(bank)s, type: business,
       business_name: Acme Trading LLC, state: unverified}
    - {guid: %(other_customer)s, bank_guid: %(other_bank)s}
""" % {"org": ORG_GUID, "other_org": OTHER_ORG, "bank": BANK_GUID,
       "other_bank": OTHER_BANK, "customer": CUSTOMER_GUID,
       "frozen": FROZEN, "storing": STORING, "business": BUSINESS,
       "other_customer": OTHER_CUSTOMER, "other_origin": OTHER_ORIGIN}


class World:
    """The running two-organization scenario and its tokens."""

    def __init__(self, client):
        self.client = client
        r = client.put("/__admin/scenario", SCENARIO,
                       headers={"Content-Type": "application/yaml"})
        assert r.status == 200, r.body
        self._tokens = {}

    def token(self, credentials):
        if credentials not in self._tokens:
            self._tokens[credentials] = fetch_token(
                self.client, credentials)["access_token"]
        return self._tokens[credentials]

    @property
    def org(self):
        return self.token(("mock-org-client-id", "mock-org-client-secret"))

    @property
    def bank(self):
        return self.token(("mock-bank-client-id", "mock-bank-client-secret"))

    @property
    def other_org(self):
        return self.token(OTHER_ORG_CLIENT)

    @property
    def other_bank(self):
        return self.token(OTHER_BANK_CLIENT)

    def guids(self, path, token):
        r = self.client.get(path, token=token)
        assert r.status == 200, r.body
        return sorted(o["guid"] for o in r.json()["objects"])


@pytest.fixture
def world(client):
    return World(client)


def test_each_organization_lists_only_its_banks(world):
    assert world.guids("/api/banks", world.org) == [BANK_GUID]
    assert world.guids("/api/banks", world.other_org) == [OTHER_BANK]
    assert world.guids("/api/banks", world.other_bank) == [OTHER_BANK]


def test_banks_of_another_organization_answer_404(world):
    c = world.client
    for path in ("/api/banks/" + OTHER_BANK,):
        assert c.get(path, token=world.org).status == 404
        r = c.patch(path, {"name": "Taken"}, token=world.org)
        assert r.status == 404
    r = c.get("/api/banks/" + OTHER_BANK, token=world.other_org)
    assert r.json()["name"] == "Other Bank"
    assert c.get("/api/banks/" + BANK_GUID,
                 token=world.other_bank).status == 404


def test_each_organization_lists_only_its_customers(world):
    assert world.guids("/api/customers", world.org) == sorted(
        [CUSTOMER_GUID, FROZEN, STORING, BUSINESS])
    assert world.guids("/api/customers", world.other_org) == [OTHER_CUSTOMER]
    assert world.guids("/api/customers", world.other_bank) == [
        OTHER_CUSTOMER]


def test_customers_of_another_organization_answer_404(world):
    c = world.client
    assert c.get("/api/customers/" + OTHER_CUSTOMER,
                 token=world.org).status == 404
    assert c.get("/api/customers/" + CUSTOMER_GUID,
                 token=world.other_bank).status == 404
    r = c.get("/api/customers?bank_guid=" + OTHER_BANK, token=world.org)
    assert r.status == 404
    r = c.get("/api/customers?bank_guid=" + OTHER_BANK,
              token=world.other_org)
    assert [o["guid"] for o in r.json()["objects"]] == [OTHER_CUSTOMER]


@pytest.mark.parametrize("guid,state", [(FROZEN, "frozen"),
                                        (STORING, "storing")])
def test_frozen_or_storing_customer_cannot_change_state(world, guid, state):
    c = world.client
    r = c.patch("/api/customers/" + guid, {"state": "unverified"},
                token=world.bank)
    assert r.status == 422
    assert r.json()["message_code"] == "invalid_parameter"
    r = c.get("/api/customers/" + guid, token=world.bank)
    assert r.json()["state"] == state


def test_business_fixture_shows_its_name_with_pii(world):
    token = fetch_token(world.client, ("mock-bank-client-id",
                                       "mock-bank-client-secret"),
                        "customers:read customers:pii:read")["access_token"]
    r = world.client.get("/api/customers/%s?include_pii=true" % BUSINESS,
                         token=token)
    body = r.json()
    assert body["type"] == "business" and body["state"] == "unverified"
    assert body["name"] == {"first": None, "middle": None, "last": None,
                            "full": "Acme Trading LLC"}
    assert body["date_of_birth"] is None


def test_preflight_allows_an_origin_of_any_bank(world):
    r = world.client.request("OPTIONS", "/api/banks",
                             headers={"Origin": OTHER_ORIGIN})
    assert r.status == 204
    assert r.header("Access-Control-Allow-Origin") == OTHER_ORIGIN


def test_actual_cors_follows_the_tokens_bank_only(world):
    c = world.client
    headers = {"Origin": OTHER_ORIGIN}
    r = c.get("/api/banks", token=world.other_bank, headers=headers)
    assert r.header("Access-Control-Allow-Origin") == OTHER_ORIGIN
    r = c.get("/api/banks", token=world.bank, headers=headers)
    assert r.header("Access-Control-Allow-Origin") is None
    r = c.get("/api/banks/" + OTHER_BANK, token=world.org, headers=headers)
    assert r.status == 404
    assert r.header("Access-Control-Allow-Origin") is None
    r = c.get("/api/banks/" + OTHER_BANK, token=world.other_org,
              headers=headers)
    assert r.header("Access-Control-Allow-Origin") == OTHER_ORIGIN


@pytest.mark.parametrize("origins", ['["http://yourdomain.com"]',
                                     '["https://a.example/"]',
                                     "[%s]" % ", ".join(
                                         "https://a%d.example" % i
                                         for i in range(51))])
def test_scenario_with_bad_bank_origins_is_refused(client, origins):
    text = """\
name: bad-origins
extends: default
fixtures:
  banks:
    - guid: %s
      organization_guid: %s
      name: Mock Sandbox Bank
      cors_allowed_origins: %s
""" % (BANK_GUID, ORG_GUID, origins)
    r = client.put("/__admin/scenario", text,
                   headers={"Content-Type": "application/yaml"})
    assert r.status == 400, r.body
    assert r.json()["message_code"] == "invalid_scenario"
    assert "cors_allowed_origins" in r.json()["error_message"]
    r = client.request("OPTIONS", "/api/banks",
                       headers={"Origin": "http://localhost:3000"})
    assert r.header("Access-Control-Allow-Origin") == "http://localhost:3000"
