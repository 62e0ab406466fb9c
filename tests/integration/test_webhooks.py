"""Signed webhook deliveries to a real HTTPS receiver, end to end.

The receiver (receiver.py) has its own CA, which the mock trusts through
the scenario's webhooks.ca_file, and checks every signature itself.
Retries are driven by advancing the mock's virtual clock: the scenarios
here wait an hour before a retry, so real time never fires one.
"""
import json
import subprocess
import time

import pytest

from conftest import BINARY
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
    r = client.get("/__admin/webhooks?event_guid=" + event["guid"])
    assert r.status == 200
    got = r.json()["attempts"]
    assert all(a["event_guid"] == event["guid"] for a in got)
    return got


def wait_attempts(client, event, count, limit=15.0):
    """Polls (bounded) until the attempt log has count entries of event."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        got = attempts(client, event)
        if len(got) >= count:
            return got
        time.sleep(0.02)
    raise AssertionError("attempt log: %r" % attempts(client, event))


def test_delivery_arrives_signed_and_verifiable(hooked, receiver):
    mock, client, tok, sub = hooked
    ev = emit(client, object_guid="ab" * 16)
    got = receiver.wait_for(1)[0]
    assert got.valid, "signature does not verify"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"].startswith("cybrid-mock")
    assert got.event_id == ev["guid"]
    assert abs(int(got.timestamp) - client.get(
        "/__admin/clock").json()["now"]) < 60
    assert json.loads(got.body) == ev
    d = wait_delivery(client, tok, ev, lambda d: d["state"] == "completed")
    assert d["attempt_count"] == 1
    assert d["subscription_guid"] == sub["guid"]
    log = attempts(client, ev)
    assert log[0]["status"] == 200
    assert log[0]["signature"] == got.signature
    assert log[0]["url"] == receiver.url


def test_500_then_200_retries_once_on_clock_advance(hooked, receiver):
    mock, client, tok, sub = hooked
    receiver.script = [500, 200]
    ev = emit(client)
    receiver.wait_for(1)
    d = wait_delivery(client, tok, ev, lambda d: d["state"] == "failing")
    assert d["attempt_count"] == 1
    assert d["next_attempt_at"] is not None
    s = client.get("/api/subscriptions/" + sub["guid"], token=tok).json()
    assert s["deliveries_failing_since"] is not None
    # Nothing is retried before the virtual clock reaches next_attempt_at.
    assert len(receiver.requests()) == 1
    advance(client, 3600)
    got = receiver.wait_for(2)
    assert all(g.valid for g in got)
    d = wait_delivery(client, tok, ev, lambda d: d["state"] == "completed")
    assert d["attempt_count"] == 2
    assert d["completed_at"] is not None
    s = client.get("/api/subscriptions/" + sub["guid"], token=tok).json()
    assert s["deliveries_failing_since"] is None
    assert [a["status"] for a in attempts(client, ev)] == [500, 200]


def test_silent_receiver_gives_failing_then_failed(start_mock, receiver,
                                                   tmp_path):
    mock = start_mock("--scenario", scenario(tmp_path, receiver, attempts=3,
                                             timeout="1s"))
    client = mock.client()
    tok = org_token(client)
    sub = client.post("/api/subscriptions", {
        "name": "silent", "type": "webhook", "environment": "sandbox",
        "url": receiver.url}, token=tok).json()
    receiver.key = sub["signing_key"]
    receiver.default = "hang"
    ev = emit(client)
    d = wait_delivery(client, tok, ev, lambda d: d["attempt_count"] == 1)
    assert d["state"] == "failing"
    advance(client, 3600)
    d = wait_delivery(client, tok, ev, lambda d: d["attempt_count"] == 2)
    assert d["state"] == "failing"
    advance(client, 7200)
    d = wait_delivery(client, tok, ev, lambda d: d["attempt_count"] == 3)
    assert d["state"] == "failed"
    assert d["failed_at"] is not None
    assert d["next_attempt_at"] is None
    log = attempts(client, ev)
    assert len(log) == 3
    assert all(a["status"] is None and a["error"] for a in log)
    client.close()


def test_every_tamper_mode_arrives_as_described(hooked, receiver):
    mock, client, tok, sub = hooked
    receiver.reject_invalid = True
    seen = {}
    for mode in ("bad_signature", "unsigned", "wrong_key"):
        ev = emit(client, tamper=mode)
        seen[mode] = (ev, [r for r in receiver.wait_for(len(seen) + 1)
                           if r.event_id == ev["guid"]])
    for mode, (ev, got) in seen.items():
        assert len(got) == 1 and not got[0].valid, mode
        log = wait_attempts(client, ev, 1)
        assert log[0]["tamper"] == mode and log[0]["status"] == 401
        assert log[0]["must_reject"] and not log[0]["accepted"]
    assert seen["unsigned"][1][0].signature is None
    assert len(seen["wrong_key"][1][0].signature) == 64

    now = client.get("/__admin/clock").json()["now"]
    ev = emit(client, tamper="stale_timestamp")
    got = [r for r in receiver.wait_for(4) if r.event_id == ev["guid"]][0]
    assert got.valid
    assert int(got.timestamp) <= now - 3600 + 5

    ev = emit(client, tamper="duplicate")
    got = [r for r in receiver.wait_for(6) if r.event_id == ev["guid"]]
    assert len(got) == 2 and all(g.valid for g in got)
    assert got[0].body == got[1].body
    log = wait_attempts(client, ev, 2)
    assert [(a["kind"], a["must_reject"], a["accepted"]) for a in log] == [
        ("delivery", False, True), ("duplicate", True, True)]

    ev = emit(client, tamper="replay")
    receiver.wait_for(7)
    # The replay is scheduled once the first request is done.
    wait_delivery(client, tok, ev, lambda d: d["state"] == "completed")
    advance(client, 61)
    got = [r for r in receiver.wait_for(8) if r.event_id == ev["guid"]]
    assert len(got) == 2
    assert got[0].body == got[1].body
    assert got[0].timestamp == got[1].timestamp
    assert got[0].signature == got[1].signature
    assert [a["kind"] for a in wait_attempts(client, ev, 2)] == [
        "delivery", "replay"]
    # This receiver checks signatures only: the stale timestamp, the
    # duplicate copy and the replay got through, and are counted.
    metrics = client.get("/__admin/metrics").body.decode()
    assert "cybrid_mock_webhook_tampered_accepted_total 3" in metrics


def test_http_urls_are_allowed_when_the_scenario_says(start_mock, tmp_path,
                                                      receiver):
    mock = start_mock("--scenario", scenario(
        tmp_path, receiver, extra="  allow_http: true\n"))
    client = mock.client()
    tok = org_token(client)
    r = client.post("/api/subscriptions", {
        "name": "plain", "type": "webhook", "environment": "sandbox",
        "url": "http://127.0.0.1:9/hook"}, token=tok)
    assert r.status == 201, r.body
    client.close()


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
    assert "certificate" in wait_attempts(client, ev, 1)[0]["error"].lower()
    assert sub["signing_key"] not in client.get("/__admin/webhooks").body.decode()


@pytest.mark.parametrize("section,reason", [
    ("  retry: {factor: 0.5}\n", "out of range"),
    ("  retry: {attempts: 0}\n", ""),
    ("  ca_file: /nonexistent/ca.pem\n", "cannot read file"),
    ("  verify_tls: maybe\n", ""),
    ("  retries: 3\n", "retries"),
])
def test_scenario_refuses_bad_webhook_settings(tmp_path, section, reason):
    path = tmp_path / "bad.yaml"
    path.write_text("extends: default\nwebhooks:\n" + section)
    out = subprocess.run([BINARY, "--check", str(path)],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode != 0
    assert "bad.yaml:3:" in out.stderr
    assert reason in out.stderr


def test_stop_cuts_a_hanging_delivery_short_and_records_the_rest(
        start_mock, receiver, tmp_path):
    mock = start_mock("--scenario", scenario(tmp_path, receiver,
                                             timeout="60s"))
    client = mock.client()
    tok = org_token(client)
    sub = client.post("/api/subscriptions", {
        "name": "hang", "type": "webhook", "environment": "sandbox",
        "url": receiver.url}, token=tok).json()
    receiver.key = sub["signing_key"]
    receiver.default = "hang"
    emit(client)
    receiver.wait_for(1)
    client.close()
    # SIGTERM; conftest's stop fails unless it exits 0 within 5 s, well
    # before the 60 s timeout.
    assert mock.stop() == 0
    assert "deliveries not attempted" in mock.stderr()


def test_reset_empties_the_queue_and_the_attempt_log(hooked, receiver):
    mock, client, tok, sub = hooked
    receiver.default = 500
    ev = emit(client)
    wait_delivery(client, tok, ev, lambda d: d["state"] == "failing")
    assert client.get("/__admin/webhooks").json()["queued"] == 1
    assert client.post("/__admin/reset").status in (200, 204)
    body = client.get("/__admin/webhooks").json()
    assert body["queued"] == 0 and body["attempts"] == []
    advance(client, 7200)
    # Nothing is due any more; an event after the reset still goes out
    # to the scenario's subscriptions only (none here).
    emit(client)
    assert client.get("/__admin/webhooks").json()["queued"] == 0
    assert len(receiver.requests()) == 1
