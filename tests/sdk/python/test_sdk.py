"""Cybrid's official Python SDKs (bank, identity, organization) against
the mock. The SDKs check every response against Cybrid's schema, so each
call here is also a conformance check; the values are asserted too."""
import json
import time

import cybrid_api_bank as bank_sdk
import cybrid_api_id as id_sdk
import cybrid_api_organization as org_sdk
import pytest
from cybrid_api_bank.api.banks_bank_api import BanksBankApi
from cybrid_api_bank.api.customers_bank_api import CustomersBankApi
from cybrid_api_bank.model.patch_bank import PatchBank
from cybrid_api_bank.model.post_bank import PostBank
from cybrid_api_bank.model.post_customer import PostCustomer
from cybrid_api_bank.model.post_customer_name import PostCustomerName
from cybrid_api_id.api.customer_tokens_idp_api import CustomerTokensIdpApi
from cybrid_api_id.model.post_customer_token import PostCustomerToken
from cybrid_api_organization.api.subscription_deliveries_organization_api \
    import SubscriptionDeliveriesOrganizationApi
from cybrid_api_organization.api.subscription_events_organization_api \
    import SubscriptionEventsOrganizationApi
from cybrid_api_organization.api.subscriptions_organization_api import \
    SubscriptionsOrganizationApi
from cybrid_api_organization.model.patch_subscription import \
    PatchSubscription
from cybrid_api_organization.model.post_subscription import PostSubscription

from receiver import Receiver

ORG = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
BANK = "b0a1c2d3e4f5061728394a5b6c7d8e9f"
CUSTOMER = "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
CORS_ERROR = "CORS allowed origins must all be valid HTTPS URIs"


def token(client, kind, scope=None):
    body = {"grant_type": "client_credentials",
            "client_id": "mock-%s-client-id" % kind,
            "client_secret": "mock-%s-client-secret" % kind}
    if scope:
        body["scope"] = scope
    r = client.post("/oauth/token", body)
    assert r.status == 200, r.body
    return r.json()["access_token"]


def api_client(sdk, mock, jwt, retries=None):
    conf = sdk.Configuration(host=mock.url)
    conf.access_token = jwt
    conf.ssl_ca_cert = mock.ca
    conf.retries = retries
    return sdk.ApiClient(conf)


def test_tokens_from_oauth_token_with_plain_http(client):
    r = client.post("/oauth/token", {
        "grant_type": "client_credentials",
        "client_id": "mock-org-client-id",
        "client_secret": "mock-org-client-secret",
        "scope": "banks:read banks:execute"})
    assert r.status == 200
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "banks:read banks:execute"
    assert body["expires_in"] == 28800
    assert isinstance(body["created_at"], int)


def test_banks_list_get_update_with_cors_rules(mock, client):
    with api_client(bank_sdk, mock, token(client, "bank")) as c:
        banks = BanksBankApi(c)
        listed = banks.list_banks(per_page=5)
        assert listed.total == 1 and listed.per_page == 5
        assert listed.objects[0].guid == BANK
        got = banks.get_bank(BANK)
        assert got.name == "Mock Sandbox Bank"
        assert got.cors_allowed_origins == ["http://localhost:3000"]

        ok = banks.update_bank(BANK, PatchBank(
            cors_allowed_origins=["https://app.example.com",
                                  "http://localhost"]))
        assert ok.cors_allowed_origins == ["https://app.example.com",
                                           "http://localhost"]
        with pytest.raises(bank_sdk.ApiException) as bad:
            banks.update_bank(BANK, PatchBank(
                cors_allowed_origins=["http://127.0.0.1:3000"]))
        assert bad.value.status == 422
        err = json.loads(bad.value.body)
        assert err["error_message"] == CORS_ERROR
        assert err["message_code"] == "invalid_parameter"
        assert banks.get_bank(BANK).cors_allowed_origins == [
            "https://app.example.com", "http://localhost"]
        cleared = banks.update_bank(BANK, PatchBank(cors_allowed_origins=[]))
        assert cleared.cors_allowed_origins == []


def test_create_bank_with_an_organization_token(mock, client):
    with api_client(bank_sdk, mock, token(client, "org")) as c:
        banks = BanksBankApi(c)
        made = banks.create_bank(PostBank(
            name="SDK Bank", type="sandbox",
            supported_trading_symbols=["BTC-USD"],
            supported_fiat_account_assets=["USD"],
            supported_country_codes=["US"],
            features=["attestation_identity_records"]))
        assert made.name == "SDK Bank" and made.type == "sandbox"
        assert made.organization_guid == ORG
        assert banks.list_banks().total == 2
        assert banks.get_bank(made.guid).guid == made.guid


def test_customers_with_and_without_pii(mock, client):
    with api_client(bank_sdk, mock, token(client, "bank")) as c:
        customers = CustomersBankApi(c)
        made = customers.create_customer(PostCustomer(
            type="individual",
            name=PostCustomerName(first="Grace", last="Hopper"),
            email_address="grace@example.com"))
        assert made.bank_guid == BANK and made.type == "individual"
        listed = customers.list_customers()
        assert listed.total == 2
        assert listed.objects[0].guid == made.guid
        plain = customers.get_customer(made.guid)
        assert plain.name is None and plain.email_address is None
        pii = customers.get_customer(made.guid, include_pii=True)
        assert pii.name.first == "Grace"
        assert pii.email_address == "grace@example.com"
        default = customers.get_customer(CUSTOMER, include_pii=True)
        assert default.name.last == "Doe" and default.state == "verified"


def test_customer_token_reads_own_customer_only(mock, client):
    bank_jwt = token(client, "bank")
    with api_client(bank_sdk, mock, bank_jwt) as c:
        other = CustomersBankApi(c).create_customer(PostCustomer(
            type="individual", name=PostCustomerName(first="O", last="P")))
    with api_client(id_sdk, mock, bank_jwt) as c:
        issued = CustomerTokensIdpApi(c).create_customer_token(
            PostCustomerToken(customer_guid=CUSTOMER,
                              scopes=["customers:read"]))
    with api_client(bank_sdk, mock, issued.access_token) as c:
        customers = CustomersBankApi(c)
        assert customers.get_customer(CUSTOMER).guid == CUSTOMER
        with pytest.raises(bank_sdk.ApiException) as missing:
            customers.get_customer(other.guid)
        assert missing.value.status == 404


def test_subscriptions_and_a_verified_delivery(start_mock, tmp_path):
    folder = tmp_path / "receiver"
    folder.mkdir()
    receiver = Receiver(str(folder))
    try:
        scenario = tmp_path / "hooks.yaml"
        scenario.write_text("name: sdk-hooks\nextends: default\n"
                            "webhooks:\n  ca_file: %s\n" % receiver.ca_file)
        mock = start_mock("--scenario", str(scenario))
        client = mock.client()
        with api_client(org_sdk, mock, token(client, "org")) as c:
            subs = SubscriptionsOrganizationApi(c)
            made = subs.create_subscription(PostSubscription(
                name="sdk hooks", type="webhook", environment="sandbox",
                url=receiver.url))
            receiver.key = made.signing_key
            assert subs.get_subscription(made.guid).url == receiver.url
            assert subs.list_subscriptions().total == 1
            assert subs.update_subscription(
                made.guid, PatchSubscription(name="renamed")).name == \
                "renamed"

            r = client.post("/__admin/events",
                            {"event_type": "trade.completed",
                             "bank_guid": BANK})
            assert r.status in (200, 201), r.body
            got = receiver.wait_for(1)
            assert got[0].valid, "the receiver's HMAC check failed"
            sent = json.loads(got[0].body)
            assert sent["event_type"] == "trade.completed"

            events = SubscriptionEventsOrganizationApi(c)
            event = events.list_subscription_events().objects[0]
            assert event.guid == sent["guid"]
            deliveries = SubscriptionDeliveriesOrganizationApi(c)
            for _ in range(100):
                d = deliveries.list_subscription_deliveries().objects[0]
                if d.state == "completed":
                    break
                time.sleep(0.05)
            assert d.state == "completed"
            assert d.subscription_guid == made.guid
            subs.delete_subscription(made.guid)
            assert subs.list_subscriptions().total == 0
        client.close()
    finally:
        receiver.stop()


def test_expired_bank_token_is_401_through_the_sdk(start_mock, tmp_path):
    scenario = tmp_path / "short.yaml"
    scenario.write_text("name: short\nextends: default\n"
                        "tokens:\n  bank_ttl: 60s\n")
    mock = start_mock("--scenario", str(scenario))
    client = mock.client()
    with api_client(bank_sdk, mock, token(client, "bank")) as c:
        banks = BanksBankApi(c)
        assert banks.get_bank(BANK).guid == BANK
        assert client.post("/__admin/clock/advance",
                           {"seconds": 60}).status == 200
        with pytest.raises(bank_sdk.ApiException) as expired:
            banks.get_bank(BANK)
        assert expired.value.status == 401
    client.close()


def test_rate_limits_429_and_token_403_told_apart(start_mock, tmp_path):
    scenario = tmp_path / "tight.yaml"
    scenario.write_text("name: tight\nextends: default\nrate_limits:\n"
                        "  general: {limit: 1, window: 1m}\n"
                        "  oauth_token: {limit: 2, window: 1m}\n")
    mock = start_mock("--scenario", str(scenario))
    client = mock.client()
    # urllib3 (under the SDK) honours Retry-After by sleeping and trying
    # again; with retries off the 429 itself reaches the test.
    with api_client(bank_sdk, mock, token(client, "bank", "customers:read"),
                    retries=0) as c:
        banks = BanksBankApi(c)
        with pytest.raises(bank_sdk.ApiException) as scope:
            banks.get_bank(BANK)
        assert scope.value.status == 403
        with pytest.raises(bank_sdk.ApiException) as limited:
            banks.get_bank(BANK)
        assert limited.value.status == 429
        assert 1 <= int(limited.value.headers["Retry-After"]) <= 60
    assert json.loads(scope.value.body)["message_code"] != "rate_limited"
    assert client.post("/oauth/token", {
        "grant_type": "client_credentials", "client_id": "mock-bank-client-id",
        "client_secret": "mock-bank-client-secret"}).status == 200
    third = client.post("/oauth/token", {
        "grant_type": "client_credentials", "client_id": "mock-bank-client-id",
        "client_secret": "mock-bank-client-secret"})
    assert third.status == 403
    assert third.json()["message_code"] == "rate_limited"
    client.close()
