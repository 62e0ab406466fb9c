"""The worked scenarios of scenarios/, each run by name (the built-in
copy) and its story checked end to end, as its comment header tells it.
"""
import http.client
import json

import pytest

from conftest import BANK_CLIENT, BANK_GUID, CUSTOMER_GUID, ORG_GUID
from receiver import Receiver
from test_faults import journal, raw

ORG_CLIENT = ("mock-org-client-id", "mock-org-client-secret")
ORG_PATH = "/api/organizations/" + ORG_GUID


def token(client, credentials):
    r = client.post("/oauth/token", {
        "grant_type": "client_credentials", "client_id": credentials[0],
        "client_secret": credentials[1]})
    return r


def good_token(client, credentials):
    r = token(client, credentials)
    assert r.status == 200, r.body
    return r.json()


def advance(client, seconds):
    r = client.post("/__admin/clock/advance", {"seconds": seconds})
    assert r.status == 200, r.body


def customer_token_call(client, bank_token):
    """A call that takes a bank token: 401 when the token is refused."""
    return client.post("/api/customer_tokens",
                       {"customer_guid": CUSTOMER_GUID,
                        "scopes": ["customers:read"]}, token=bank_token)


def scenario_state(client):
    return client.get("/__admin/scenario").json()


def test_every_worked_scenario_checks_and_says_what_it_tests():
    import os
    import subprocess
    from conftest import BINARY, ROOT
    folder = os.path.join(ROOT, "scenarios")
    names = sorted(f for f in os.listdir(folder) if f.endswith(".yaml"))
    for want in ("default", "token-expiry", "rate-limit-storm", "flaky-api",
                 "webhook-tamper", "browser-cors"):
        assert want + ".yaml" in names
    for name in names:
        path = os.path.join(folder, name)
        with open(path) as f:
            first = f.readline()
        assert first.startswith("# " + name[:-5] + ":"), name
        out = subprocess.run([BINARY, "--check", path], capture_output=True)
        assert out.returncode == 0, out.stderr


def test_default_is_the_sandbox_on_a_good_day(start_mock):
    mock = start_mock("--scenario", "default")
    c = mock.client()
    state = scenario_state(c)
    assert state["name"] == "default"
    assert state["faults"] == [] and state["timeline"] == []
    tok = good_token(c, ORG_CLIENT)
    assert tok["expires_in"] == 28800
    for _ in range(10):
        assert c.get(ORG_PATH, token=tok["access_token"]).status == 200
    c.close()


def test_token_expiry_short_lifetimes_and_a_revocation(start_mock):
    mock = start_mock("--scenario", "token-expiry")
    c = mock.client()
    bank = good_token(c, BANK_CLIENT)
    assert bank["expires_in"] == 60
    org = good_token(c, ORG_CLIENT)["access_token"]
    assert customer_token_call(c, bank["access_token"]).status != 401
    # The clock also runs in real time: 20 s leaves a margin for a slow
    # mock (under valgrind) before the revocation at 30 s.
    advance(c, 20)
    assert customer_token_call(c, bank["access_token"]).status != 401
    # At 30 s every token issued so far is revoked, inside its lifetime.
    advance(c, 11)
    r = customer_token_call(c, bank["access_token"])
    assert r.status == 401
    assert r.json()["error_message"] == "the token has expired"
    assert c.get(ORG_PATH, token=org).status == 401
    fresh = good_token(c, BANK_CLIENT)["access_token"]
    assert customer_token_call(c, fresh).status != 401
    # A bank token lives one minute.
    advance(c, 61)
    assert customer_token_call(c, fresh).status == 401
    newer = good_token(c, BANK_CLIENT)["access_token"]
    assert customer_token_call(c, newer).status != 401
    state = {e["name"]: e for e in scenario_state(c)["timeline"]}
    assert state["revoke-everything"]["fired"] == 1
    c.close()


def test_rate_limit_storm_429_403_recovery_and_tightening(start_mock):
    mock = start_mock("--scenario", "rate-limit-storm")
    c = mock.client()
    org = good_token(c, ORG_CLIENT)["access_token"]
    good_token(c, BANK_CLIENT)
    good_token(c, ORG_CLIENT)
    r = token(c, ORG_CLIENT)
    assert r.status == 403  # the token endpoint's limit is a 403
    assert r.json()["message_code"] == "rate_limited"
    assert r.header("Retry-After") is None
    # The first subscription listing is refused as if the limit were hit.
    r = c.get("/api/subscriptions", token=org)
    assert r.status == 429 and int(r.header("Retry-After")) >= 1
    for _ in range(4):
        assert c.get(ORG_PATH, token=org).status == 200
    r = c.get(ORG_PATH, token=org)
    assert r.status == 429
    assert 1 <= int(r.header("Retry-After")) <= 60
    advance(c, 60)
    assert c.get(ORG_PATH, token=org).status == 200  # recovered
    # From 2 minutes on: two calls per minute.
    advance(c, 61)
    got = [c.get(ORG_PATH, token=org).status for _ in range(3)]
    assert got == [200, 200, 429]
    c.close()


def test_flaky_api_fails_each_path_once_as_told(start_mock):
    mock = start_mock("--scenario", "flaky-api")
    c = mock.client()
    org = good_token(c, ORG_CLIENT)["access_token"]
    auth = "Authorization: Bearer %s\r\n" % org
    # 503 on the third listing of subscriptions, with Retry-After.
    got = [c.get("/api/subscriptions", token=org) for _ in range(4)]
    assert [r.status for r in got] == [200, 200, 503, 200]
    assert got[2].header("Retry-After") == "1"
    assert got[2].json()["message_code"] == "service_unavailable"
    # A slow first call, answered normally.
    assert c.get(ORG_PATH, token=org).status == 200
    slow = journal(c, "?path=/api/organizations/*")["entries"][-1]
    assert slow["duration_ms"] >= 1500
    # A reset: no answer at all, then the next call works.
    try:
        data = raw(mock, "GET", "/api/subscription_events", headers=auth)
    except ConnectionResetError:
        data = b""
    assert data == b""
    assert c.get("/api/subscription_events", token=org).status == 200
    # A truncated answer.
    with pytest.raises(http.client.IncompleteRead):
        c.get("/api/subscription_deliveries", token=org)
    c = mock.client()
    assert c.get("/api/subscription_deliveries", token=org).status == 200
    # A 200 that is not JSON.
    r = c.get("/api/banks/" + BANK_GUID)
    assert r.status == 200
    with pytest.raises(ValueError):
        json.loads(r.body)
    # Seeded 500s: the same calls fail after a reset.
    first = [c.get("/api/customers").status for _ in range(20)]
    c.post("/__admin/reset")
    second = [c.get("/api/customers").status for _ in range(20)]
    assert first == second and 500 in first
    assert first.count(500) < 20
    fired = {f["name"]: f["fired"] for f in scenario_state(c)["faults"]}
    assert fired["subscriptions-503"] == 0  # reset started them over
    c.close()


@pytest.fixture
def receiver(tmp_path):
    folder = tmp_path / "receiver"
    folder.mkdir()
    r = Receiver(str(folder))
    yield r
    r.stop()


def test_webhook_tamper_sends_one_delivery_per_mode(start_mock, receiver,
                                                    tmp_path):
    local = tmp_path / "tamper.yaml"
    local.write_text("extends: webhook-tamper\n"
                     "webhooks:\n  ca_file: %s\n" % receiver.ca_file)
    mock = start_mock("--scenario", str(local))
    c = mock.client()
    org = good_token(c, ORG_CLIENT)["access_token"]
    r = c.post("/api/subscriptions", {
        "name": "receiver", "type": "webhook", "environment": "sandbox",
        "url": receiver.url}, token=org)
    assert r.status == 201, r.body
    receiver.key = r.json()["signing_key"]
    receiver.reject_invalid = True

    advance(c, 60)
    got = receiver.wait_for(1)
    assert got[0].valid  # genuine
    advance(c, 60)
    assert not receiver.wait_for(2)[1].valid  # bad_signature
    advance(c, 60)
    assert receiver.wait_for(3)[2].signature is None  # unsigned
    advance(c, 60)
    assert not receiver.wait_for(4)[3].valid  # wrong_key
    advance(c, 60)
    stale = receiver.wait_for(5)[4]  # stale_timestamp: signed, old
    assert stale.valid
    now = c.get("/__admin/clock").json()["now"]
    assert int(stale.timestamp) <= now - 3000
    advance(c, 60)
    dup = receiver.wait_for(7)[5:7]  # duplicate: the same event twice
    assert dup[0].event_id == dup[1].event_id and dup[0].body == dup[1].body
    advance(c, 60)
    first = receiver.wait_for(8)[7]  # replay: now, and a minute later
    advance(c, 60)
    again = receiver.wait_for(9)[8]
    assert (again.body, again.signature, again.timestamp) == (
        first.body, first.signature, first.timestamp)
    fired = [e["fired"] for e in scenario_state(c)["timeline"]]
    assert fired == [1] * 7
    c.close()


def test_browser_cors_lists_three_origins(start_mock):
    mock = start_mock("--scenario", "browser-cors")
    c = mock.client()
    bank = scenario_state(c)["fixtures"]["banks"][0]
    listed = ["https://app.example.com", "https://admin.example.com",
              "http://localhost:3000"]
    assert bank["cors_allowed_origins"] == listed
    for origin in listed:
        r = c.request("OPTIONS", "/api/banks/" + BANK_GUID, headers={
            "Origin": origin, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization"})
        assert r.header("Access-Control-Allow-Origin") == origin, origin
    for origin in ("https://app.example.com:8443", "http://app.example.com",
                   "https://app.example.com.evil.io", "http://localhost:3001",
                   "https://evil.example"):
        r = c.request("OPTIONS", "/api/banks/" + BANK_GUID, headers={
            "Origin": origin, "Access-Control-Request-Method": "GET"})
        assert r.header("Access-Control-Allow-Origin") is None, origin
    c.close()
