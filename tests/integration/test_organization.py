"""The Organization API: organizations, subscriptions, events, deliveries,
over raw HTTPS and through Cybrid's official Python SDK, which checks
every response's types, enums and lengths."""
import pytest

from test_webhooks import ORG_SCOPES, emit, org_token, token

ORG = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
HOOK = {"name": "hook", "type": "webhook", "environment": "sandbox",
        "url": "https://example.com/hook"}


@pytest.fixture
def tok(client):
    return org_token(client)


def test_organization_get_and_patch_name(client, tok):
    r = client.get("/api/organizations/" + ORG, token=tok)
    assert r.status == 200
    assert set(r.json()) == {"guid", "name", "created_at", "updated_at"}
    r = client.patch("/api/organizations/" + ORG, {"name": "Renamed"},
                     token=tok)
    assert r.status == 200 and r.json()["name"] == "Renamed"
    assert client.get("/api/organizations/" + ORG,
                      token=tok).json()["name"] == "Renamed"


def test_organization_patch_refuses_other_fields_and_empty_name(client, tok):
    r = client.patch("/api/organizations/" + ORG, {"guid": "x"}, token=tok)
    assert r.status == 400
    r = client.patch("/api/organizations/" + ORG, {"name": ""}, token=tok)
    assert r.status == 422
    r = client.get("/api/organizations/" + ORG, token=tok)
    assert r.json()["name"] != ""


def test_other_organization_is_404(client, tok):
    r = client.get("/api/organizations/" + "1" * 32, token=tok)
    assert r.status == 404


def test_subscription_create_get_list_patch_delete(client, tok):
    r = client.post("/api/subscriptions", HOOK, token=tok)
    assert r.status == 201, r.body
    sub = r.json()
    assert len(sub["signing_key"]) >= 64
    assert sub["state"] == "completed" and sub["type"] == "webhook"
    assert sub["organization_guid"] == ORG
    assert sub["deliveries_failing_since"] is None
    got = client.get("/api/subscriptions/" + sub["guid"], token=tok).json()
    assert got["signing_key"] == sub["signing_key"]
    listed = client.get("/api/subscriptions", token=tok).json()
    assert listed["total"] == 1 and listed["per_page"] == 10
    assert "signing_key" not in listed["objects"][0]
    r = client.patch("/api/subscriptions/" + sub["guid"], {"name": "renamed"},
                     token=tok)
    assert r.status == 200 and r.json()["name"] == "renamed"
    r = client.delete("/api/subscriptions/" + sub["guid"], token=tok)
    assert r.status == 204 and r.body == b""
    r = client.get("/api/subscriptions/" + sub["guid"], token=tok)
    assert r.status == 404


def test_subscription_create_with_trailing_slash(client, tok):
    r = client.post("/api/subscriptions/", HOOK, token=tok)
    assert r.status == 201


def test_signing_keys_differ_between_subscriptions(client, tok):
    a = client.post("/api/subscriptions", HOOK, token=tok).json()
    b = client.post("/api/subscriptions", HOOK, token=tok).json()
    assert a["signing_key"] != b["signing_key"]


@pytest.mark.parametrize("change,status", [
    ({"url": "ftp://example.com/x"}, 422),
    ({"url": "https://" + "a" * 1020 + ".com"}, 422),
    ({"url": "not a url"}, 422),
    ({"name": ""}, 422),
    ({"type": "pigeon"}, 400),
    ({"environment": "production"}, 422),
    ({"signing_key": "mine"}, 400),
    ({"url": 5}, 400),
])
def test_subscription_create_refuses_bad_bodies(client, tok, change, status):
    body = dict(HOOK)
    body.update(change)
    r = client.post("/api/subscriptions", body, token=tok)
    assert r.status == status, r.body
    assert client.get("/api/subscriptions", token=tok).json()["total"] == 0


def test_missing_scope_is_403(client):
    tok = token(client, "mock-org-client-id", "mock-org-client-secret",
                "subscriptions:read")
    r = client.post("/api/subscriptions", HOOK, token=tok)
    assert r.status == 403


def test_events_and_deliveries_are_listed_and_filtered(client, tok):
    sub = client.post("/api/subscriptions", HOOK, token=tok).json()
    ev = emit(client, event_type="transfer.completed")
    r = client.get("/api/subscription_events/" + ev["guid"], token=tok)
    assert r.status == 200 and r.json() == ev
    lst = client.get("/api/subscription_events?guid=" + ev["guid"],
                     token=tok).json()
    assert lst["total"] == 1
    d = client.get("/api/subscription_deliveries?subscription_guid="
                   + sub["guid"], token=tok).json()
    assert d["total"] == 1
    one = d["objects"][0]
    assert one["subscription_event_guid"] == ev["guid"]
    assert not any(k.startswith("_") for k in one)
    r = client.get("/api/subscription_deliveries/" + one["guid"], token=tok)
    assert r.status == 200
    r = client.get("/api/subscription_deliveries?event_type=trade.completed",
                   token=tok)
    assert r.json()["total"] == 0
    r = client.get("/api/subscription_deliveries?state=lost", token=tok)
    assert r.status == 400
    r = client.get("/api/subscription_deliveries?per_page=101", token=tok)
    assert r.status == 400


def test_redelivery_makes_a_new_delivery(client, tok):
    sub = client.post("/api/subscriptions", HOOK, token=tok).json()
    ev = emit(client)
    r = client.post("/api/subscription_deliveries", {
        "subscription_event_guid": ev["guid"],
        "subscription_guid": sub["guid"]}, token=tok)
    assert r.status == 201, r.body
    assert r.json()["subscription_event_guid"] == ev["guid"]
    total = client.get("/api/subscription_deliveries", token=tok).json()
    assert total["total"] == 2
    r = client.post("/api/subscription_deliveries", {
        "subscription_event_guid": "0" * 32,
        "subscription_guid": sub["guid"]}, token=tok)
    assert r.status == 422


def test_official_python_sdk_accepts_every_answer(mock, client):
    import cybrid_api_organization as api
    from cybrid_api_organization.api import (
        organizations_organization_api, subscription_deliveries_organization_api,
        subscription_events_organization_api, subscriptions_organization_api)
    from cybrid_api_organization.model.post_subscription import (
        PostSubscription)
    from cybrid_api_organization.model.patch_subscription import (
        PatchSubscription)
    from cybrid_api_organization.model.patch_organization import (
        PatchOrganization)
    from cybrid_api_organization.model.post_subscription_delivery import (
        PostSubscriptionDelivery)

    conf = api.Configuration(host=mock.url)
    conf.access_token = org_token(client)
    conf.ssl_ca_cert = mock.ca
    with api.ApiClient(conf) as c:
        subs = subscriptions_organization_api.SubscriptionsOrganizationApi(c)
        created = subs.create_subscription(PostSubscription(
            name="sdk", type="webhook", environment="sandbox",
            url="https://example.com/sdk"))
        assert len(created.signing_key) >= 64
        assert subs.get_subscription(created.guid).name == "sdk"
        assert subs.list_subscriptions().total == 1
        assert subs.update_subscription(
            created.guid, PatchSubscription(name="sdk2")).name == "sdk2"
        emit(client)
        events = subscription_events_organization_api.\
            SubscriptionEventsOrganizationApi(c)
        ev = events.list_subscription_events().objects[0]
        assert events.get_subscription_event(ev.guid).event_type == \
            "trade.completed"
        dels = subscription_deliveries_organization_api.\
            SubscriptionDeliveriesOrganizationApi(c)
        d = dels.list_subscription_deliveries().objects[0]
        assert dels.get_subscription_delivery(d.guid).guid == d.guid
        orgs = organizations_organization_api.OrganizationsOrganizationApi(c)
        assert orgs.get_organization(ORG).guid == ORG
        assert orgs.update_organization(
            ORG, PatchOrganization(name="sdk org")).name == "sdk org"
        redelivered = dels.create_subscription_delivery(
            PostSubscriptionDelivery(subscription_event_guid=ev.guid,
                                     subscription_guid=created.guid))
        assert redelivered.subscription_event_guid == ev.guid
        subs.delete_subscription(created.guid)
        assert subs.list_subscriptions().total == 0


def _maps_curl(mock):
    with open("/proc/%d/maps" % mock.proc.pid) as f:
        return "libcurl" in f.read()


def test_libcurl_is_loaded_by_the_first_url_check_not_at_start(mock, client,
                                                               tok):
    assert client.get("/__admin/health").status == 200
    assert client.get("/api/organizations/" + ORG, token=tok).status == 200
    assert not _maps_curl(mock)
    r = client.post("/api/subscriptions", HOOK, token=tok)
    assert r.status == 201, r.body
    assert _maps_curl(mock)
