"""Signed webhook deliveries to a real HTTPS receiver, end to end.

The receiver (receiver.py) has its own CA, which the mock trusts through
the scenario's webhooks.ca_file, and checks every signature itself.
Retries are driven by advancing the mock's virtual clock: the scenarios
here wait an hour before a retry, so real time never fires one.
"""
import time

import pytest

from receiver import Receiver

ORG_SCOPES = ("organizations:read organizations:write subscriptions:read "
              "subscriptions:write subscriptions:execute "
              "subscription_events:read subscription_events:execute")


def token(client, client_id, secret, scope):
    r = client.post("/oauth/token", {
        "grant_type": "client_credentials", "client_id": client_id,
        "client_secret": secret, "scope": scope})
    assert r.status == 200, r.body
    return r.json()["access_token"]


def org_token(client):
    return token(client, "mock-org-client-id", "mock-org-client-secret",
                 ORG_SCOPES)


def scenario(tmp_path, receiver, attempts=3, timeout="2s", extra=""):
    path = tmp_path / "webhooks.yaml"
    path.write_text(
        "name: webhook-tests\n"
        "extends: default\n"
        "webhooks:\n"
        "  retry: {attempts: %d, first_delay: 1h, factor: 2}\n"
        "  timeout: %s\n"
        "  ca_file: %s\n%s" % (attempts, timeout, receiver.ca_file, extra))
    return str(path)


@pytest.fixture
def receiver(tmp_path):
    folder = tmp_path / "receiver"
    folder.mkdir()
    r = Receiver(str(folder))
    yield r
    r.stop()


@pytest.fixture
def hooked(start_mock, receiver, tmp_path):
    """A mock trusting the receiver's CA, a client, an org token and a
    subscription to the receiver."""
    mock = start_mock("--scenario", scenario(tmp_path, receiver))
    client = mock.client()
    tok = org_token(client)
    r = client.post("/api/subscriptions", {
        "name": "receiver", "type": "webhook", "environment": "sandbox",
        "url": receiver.url}, token=tok)
    assert r.status == 201, r.body
    sub = r.json()
    receiver.key = sub["signing_key"]
    yield mock, client, tok, sub
    client.close()


def emit(client, **fields):
    fields.setdefault("event_type", "trade.completed")
    r = client.post("/__admin/events", fields)
    assert r.status == 201, r.body
    return r.json()


def advance(client, seconds):
    r = client.post("/__admin/clock/advance", {"seconds": seconds})
    assert r.status == 200


def deliveries(client, tok, event):
    r = client.get("/api/subscription_deliveries?subscription_event_guid="
                   + event["guid"], token=tok)
    assert r.status == 200, r.body
    return r.json()["objects"]


def wait_delivery(client, tok, event, pred, limit=15.0):
    """Polls (bounded) until the event's one delivery satisfies pred."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        got = deliveries(client, tok, event)
        if len(got) == 1 and pred(got[0]):
            return got[0]
        time.sleep(0.02)
    raise AssertionError("delivery never matched: %r"
                         % deliveries(client, tok, event))


def attempts(client, event):
    r = client.get("/__admin/webhooks")
    assert r.status == 200
    return [a for a in r.json()["attempts"]
            if a["event_guid"] == event["guid"]]


def test_bank_token_is_refused_on_the_organization_api(client):
    bank = token(client, "mock-bank-client-id", "mock-bank-client-secret",
                 "banks:read")
    for method, path in (("GET", "/api/subscriptions"),
                         ("GET", "/api/subscription_events"),
                         ("GET", "/api/subscription_deliveries"),
                         ("GET", "/api/organizations/"
                          "0f1e2d3c4b5a69788796a5b4c3d2e1f0")):
        r = client.request(method, path, token=bank)
        assert r.status == 403, path
    r = client.post("/api/subscriptions", {
        "name": "x", "type": "webhook", "environment": "sandbox",
        "url": "https://example.com/hook"}, token=bank)
    assert r.status == 403


def test_http_urls_are_refused_by_default(client):
    tok = org_token(client)
    r = client.post("/api/subscriptions", {
        "name": "plain", "type": "webhook", "environment": "sandbox",
        "url": "http://127.0.0.1:9/hook"}, token=tok)
    assert r.status == 422
    assert r.json()["message_code"] == "invalid_parameter"
    assert client.get("/api/subscriptions", token=tok).json()["total"] == 0


def test_certificate_of_unknown_ca_fails_the_delivery(start_mock, client,
                                                      receiver):
    # The default scenario does not trust the receiver's CA.
    tok = org_token(client)
    sub = client.post("/api/subscriptions", {
        "name": "untrusted", "type": "webhook", "environment": "sandbox",
        "url": receiver.url}, token=tok).json()
    ev = emit(client)
    d = wait_delivery(client, tok, ev, lambda d: d["attempt_count"] == 1)
    assert d["state"] == "failing"
    assert receiver.requests() == []
    assert "certificate" in attempts(client, ev)[0]["error"].lower()
    assert sub["signing_key"] not in client.get("/__admin/webhooks").body.decode()
