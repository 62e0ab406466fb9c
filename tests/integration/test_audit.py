"""The integration audit against the real binary: for every rule, a client
that breaks the security guide (the rule fires) and one that follows it
(the rule stays silent); the JUnit rendering; --fail-on exit codes.

Time is moved with POST /__admin/clock/advance, never slept.
"""
import signal
import xml.etree.ElementTree as ET

import pytest

from conftest import (BANK_CLIENT, BANK_GUID, CUSTOMER_GUID, ORG_CLIENT,
                      ORG_GUID, Tokens, fetch_token)
from receiver import Receiver

RULES = ("privileged_token_in_browser", "expired_token_resent",
         "retry_before_retry_after", "token_requests_after_rate_limit",
         "tokens_not_cached", "bank_token_for_customer",
         "customer_scopes_unused", "credentials_in_query",
         "cors_wildcard_or_http", "webhook_plain_http",
         "webhook_tls_unverified", "webhook_forged_accepted",
         "webhook_stale_accepted", "webhook_slow_receiver")
ORG_PATH = "/api/organizations/" + ORG_GUID
CUSTOMER_PATH = "/api/customers/" + CUSTOMER_GUID
BANK_PATH = "/api/banks/" + BANK_GUID


def findings(client):
    r = client.get("/__admin/findings")
    assert r.status == 200, r.body
    return {f["rule"]: f for f in r.json()["findings"]}


def advance(client, seconds):
    assert client.post("/__admin/clock/advance",
                       {"seconds": seconds}).status == 200


def scenario(tmp_path, text, name="audit"):
    path = tmp_path / (name + ".yaml")
    path.write_text("name: %s\nextends: default\n%s" % (name, text))
    return str(path)


def org_token(client):
    return fetch_token(client, ORG_CLIENT)["access_token"]


def bank_token(client):
    return fetch_token(client, BANK_CLIENT)["access_token"]


# ---- privileged_token_in_browser -----------------------------------------

def test_org_token_with_origin_header_is_critical(client):
    tok = org_token(client)
    r = client.get(ORG_PATH, token=tok,
                   headers={"Origin": "https://app.example.com"})
    assert r.status == 200
    f = findings(client)["privileged_token_in_browser"]
    assert f["severity"] == "critical"
    assert f["count"] == 1
    assert f["example_request_id"] == r.header("X-Request-Id")
    assert f["detail"] == "GET /api/organizations/{organization_guid}"
    assert f["first_seen"] and f["last_seen"]


def test_token_fetched_from_browser_origin_is_critical(client):
    r = client.post("/oauth/token", {
        "grant_type": "client_credentials", "client_id": BANK_CLIENT[0],
        "client_secret": BANK_CLIENT[1]},
        headers={"Origin": "https://app.example.com"})
    assert r.status == 200
    assert "privileged_token_in_browser" in findings(client)


def test_org_token_from_a_server_is_silent(client):
    tok = org_token(client)
    for _ in range(3):
        assert client.get(ORG_PATH, token=tok).status == 200
    assert findings(client) == {}


def test_customer_token_with_origin_is_not_privileged(client, tokens):
    cust = tokens.customer(("customers:read",))
    client.get(ORG_PATH, token=cust,
               headers={"Origin": "https://app.example.com"})
    assert "privileged_token_in_browser" not in findings(client)


def test_bank_token_on_a_customer_route_with_origin_is_critical(client,
                                                                tokens):
    client.get(CUSTOMER_PATH, token=tokens.bank,
               headers={"Origin": "http://localhost:3000"})
    assert "privileged_token_in_browser" in findings(client)


def test_customer_token_on_its_routes_with_origin_is_silent(client, tokens):
    cust = tokens.customer(("customers:read",))
    r = client.get(CUSTOMER_PATH, token=cust,
                   headers={"Origin": "http://localhost:3000"})
    assert r.status == 200
    assert "privileged_token_in_browser" not in findings(client)


# ---- expired_token_resent ------------------------------------------------

@pytest.fixture
def short_tokens(start_mock, tmp_path):
    mock = start_mock("--scenario", scenario(
        tmp_path, "tokens: {organization_ttl: 60s}\n"))
    c = mock.client()
    yield c
    c.close()


def test_expired_token_sent_again_and_again_is_a_warning(short_tokens):
    c = short_tokens
    tok = org_token(c)
    advance(c, 61)
    for _ in range(3):
        assert c.get(ORG_PATH, token=tok).status == 401
    assert "expired_token_resent" not in findings(c)  # two resends
    assert c.get(ORG_PATH, token=tok).status == 401
    f = findings(c)["expired_token_resent"]
    assert f["severity"] == "warning"
    assert f["count"] == 1


def test_refreshing_after_a_401_is_silent(short_tokens):
    c = short_tokens
    tok = org_token(c)
    advance(c, 61)
    assert c.get(ORG_PATH, token=tok).status == 401
    tok = org_token(c)
    for _ in range(5):
        assert c.get(ORG_PATH, token=tok).status == 200
    assert findings(c) == {}


# ---- retry_before_retry_after --------------------------------------------

@pytest.fixture
def limited(start_mock, tmp_path):
    mock = start_mock("--scenario", scenario(
        tmp_path, "rate_limits:\n  general: {limit: 2, window: 60s}\n"))
    c = mock.client()
    yield c
    c.close()


def hit_limit(c, tok):
    for _ in range(2):
        assert c.get(ORG_PATH, token=tok).status == 200
    r = c.get(ORG_PATH, token=tok)
    assert r.status == 429
    return int(r.header("Retry-After"))


def test_retry_before_retry_after_is_a_warning(limited):
    c = limited
    tok = org_token(c)
    hit_limit(c, tok)
    assert c.get(ORG_PATH, token=tok).status == 429
    f = findings(c)["retry_before_retry_after"]
    assert f["severity"] == "warning"
    assert f["count"] == 1


def test_waiting_for_retry_after_is_silent(limited):
    c = limited
    tok = org_token(c)
    wait = hit_limit(c, tok)
    advance(c, wait)
    assert c.get(ORG_PATH, token=tok).status == 200
    assert findings(c) == {}


# ---- token_requests_after_rate_limit -------------------------------------

@pytest.fixture
def scarce_tokens(start_mock, tmp_path):
    mock = start_mock("--scenario", scenario(
        tmp_path, "rate_limits:\n  oauth_token: {limit: 1, window: 300s}\n"))
    c = mock.client()
    yield c
    c.close()


def token_request(c):
    return c.post("/oauth/token", {
        "grant_type": "client_credentials", "client_id": ORG_CLIENT[0],
        "client_secret": ORG_CLIENT[1]})


def test_hammering_the_token_endpoint_after_403_is_a_warning(scarce_tokens):
    c = scarce_tokens
    assert token_request(c).status == 200
    statuses = [token_request(c).status for _ in range(4)]
    assert statuses == [403] * 4
    f = findings(c)["token_requests_after_rate_limit"]
    assert f["severity"] == "warning"
    assert f["count"] == 1


def test_backing_off_after_a_token_403_is_silent(scarce_tokens):
    c = scarce_tokens
    assert token_request(c).status == 200
    assert token_request(c).status == 403
    for _ in range(3):
        advance(c, 10)
        assert token_request(c).status == 403
    advance(c, 300)
    assert token_request(c).status == 200
    assert "token_requests_after_rate_limit" not in findings(c)


# ---- tokens_not_cached ---------------------------------------------------

def test_a_new_token_for_every_call_is_a_warning(client):
    for _ in range(5):
        assert client.get(ORG_PATH, token=org_token(client)).status == 200
    f = findings(client)["tokens_not_cached"]
    assert f["severity"] == "warning"
    assert f["count"] == 1


def test_one_token_for_many_calls_is_silent(client):
    tok = org_token(client)
    for _ in range(10):
        assert client.get(ORG_PATH, token=tok).status == 200
    assert findings(client) == {}


def test_a_few_fresh_tokens_used_for_many_calls_are_silent(client):
    for _ in range(5):
        tok = org_token(client)
        for _ in range(4):
            assert client.get(ORG_PATH, token=tok).status == 200
    assert "tokens_not_cached" not in findings(client)


def test_refetching_near_expiry_is_silent(short_tokens):
    c = short_tokens
    for _ in range(6):
        assert c.get(ORG_PATH, token=org_token(c)).status == 200
        advance(c, 59)
    assert "tokens_not_cached" not in findings(c)


# ---- bank_token_for_customer ---------------------------------------------

def test_bank_token_used_for_a_customer_again_and_again_is_a_warning(
        client, tokens):
    for _ in range(3):
        assert client.get(CUSTOMER_PATH, token=tokens.bank).status == 200
    assert "bank_token_for_customer" not in findings(client)
    r = client.get(CUSTOMER_PATH, token=tokens.bank)
    f = findings(client)["bank_token_for_customer"]
    assert f["severity"] == "warning"
    assert f["example_request_id"] == r.header("X-Request-Id")
    assert f["detail"] == "GET /api/customers/{customer_guid}"


def test_customer_token_for_customer_requests_is_silent(client, tokens):
    cust = tokens.customer(("customers:read",))
    for _ in range(10):
        assert client.get(CUSTOMER_PATH, token=cust).status == 200
    for _ in range(5):
        assert client.get("/api/customers", token=tokens.bank).status == 200
    assert "bank_token_for_customer" not in findings(client)


# ---- customer_scopes_unused ----------------------------------------------

def test_customer_token_with_unused_write_scope_is_info(client, tokens):
    tokens.customer(("customers:read", "customers:write"))
    f = findings(client)["customer_scopes_unused"]
    assert f["severity"] == "info"
    assert f["count"] == 1
    assert "customers:write" in f["detail"]


def test_read_only_customer_token_is_silent(client, tokens):
    tokens.customer(("customers:read",))
    assert "customer_scopes_unused" not in findings(client)


def test_customer_token_that_uses_its_write_scope_is_silent(client, tokens):
    cust = tokens.customer(("customers:read", "customers:write"))
    r = client.patch(CUSTOMER_PATH, {"state": "unverified"}, token=cust)
    assert r.status == 200, r.body
    assert "customer_scopes_unused" not in findings(client)


# ---- cors_wildcard_or_http -----------------------------------------------

@pytest.mark.parametrize("origin", ["https://*.example.com", "*",
                                    "http://app.example.com"])
def test_refused_cors_update_with_bad_origin_is_info(client, tokens, origin):
    r = client.patch(BANK_PATH, {"cors_allowed_origins": [origin]},
                     token=tokens.bank)
    assert r.status == 422, r.body
    f = findings(client)["cors_wildcard_or_http"]
    assert f["severity"] == "info"
    assert f["example_request_id"] == r.header("X-Request-Id")


def test_good_cors_updates_are_silent(client, tokens):
    r = client.patch(BANK_PATH, {"cors_allowed_origins": [
        "https://app.example.com", "http://localhost:3000"]},
        token=tokens.bank)
    assert r.status == 200, r.body
    r = client.patch(BANK_PATH, {"cors_allowed_origins": [
        "https://app.example.com/path"]}, token=tokens.bank)
    assert r.status == 422
    assert "cors_wildcard_or_http" not in findings(client)

# ---- credentials_in_query ------------------------------------------------

def test_client_secret_in_the_query_string_is_critical(client):
    r = client.post("/oauth/token?grant_type=client_credentials"
                    "&client_id=%s&client_secret=%s" % BANK_CLIENT,
                    body="", headers={"Content-Type":
                                      "application/x-www-form-urlencoded"})
    assert r.status == 400
    f = findings(client)["credentials_in_query"]
    assert f["severity"] == "critical"
    assert f["example_request_id"] == r.header("X-Request-Id")
    assert BANK_CLIENT[1] not in client.get("/__admin/findings").body.decode()


def test_credentials_in_the_body_are_silent(client):
    fetch_token(client, BANK_CLIENT)
    client.get(ORG_PATH + "?page=0", token=org_token(client))
    assert "credentials_in_query" not in findings(client)


# ---- webhooks ------------------------------------------------------------

@pytest.fixture
def receiver(tmp_path):
    folder = tmp_path / "receiver"
    folder.mkdir()
    r = Receiver(str(folder))
    yield r
    r.stop()


def hooked(start_mock, tmp_path, receiver, extra=""):
    mock = start_mock("--scenario", scenario(
        tmp_path, "webhooks:\n  retry: {attempts: 1}\n  ca_file: %s\n%s"
        % (receiver.ca_file, extra)))
    c = mock.client()
    tok = org_token(c)
    r = c.post("/api/subscriptions", {
        "name": "receiver", "type": "webhook", "environment": "sandbox",
        "url": receiver.url}, token=tok)
    assert r.status == 201, r.body
    receiver.key = r.json()["signing_key"]
    return c


def deliver(c, receiver, n, tamper=None):
    body = {"event_type": "trade.completed"}
    if tamper:
        body["tamper"] = tamper
    assert c.post("/__admin/events", body).status == 201
    receiver.wait_for(n)
    wait_logged(c, n)


def wait_logged(c, n):
    """Polls (bounded) until n attempts are in the attempt log: the audit
    sees each attempt before it is logged there."""
    import time
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if len(c.get("/__admin/webhooks").json()["attempts"]) >= n:
            return
        time.sleep(0.02)
    raise AssertionError("attempts never logged")


@pytest.mark.parametrize("tamper", ["bad_signature", "wrong_key", "unsigned"])
def test_receiver_accepting_a_forged_delivery_is_critical(
        start_mock, tmp_path, receiver, tamper):
    c = hooked(start_mock, tmp_path, receiver)
    deliver(c, receiver, 1, tamper)
    f = findings(c)["webhook_forged_accepted"]
    assert f["severity"] == "critical"
    assert tamper in f["detail"]
    c.close()


def test_receiver_checking_signatures_is_silent(start_mock, tmp_path,
                                                receiver):
    c = hooked(start_mock, tmp_path, receiver)
    receiver.reject_invalid = True
    receiver.reject_stale = True
    deliver(c, receiver, 1)
    for i, tamper in enumerate(("bad_signature", "wrong_key", "unsigned",
                                "stale_timestamp")):
        deliver(c, receiver, i + 2, tamper)
    assert findings(c) == {}
    c.close()


def test_receiver_accepting_a_stale_timestamp_is_a_warning(
        start_mock, tmp_path, receiver):
    c = hooked(start_mock, tmp_path, receiver)
    receiver.reject_invalid = True
    deliver(c, receiver, 1, "stale_timestamp")
    f = findings(c)
    assert f["webhook_stale_accepted"]["severity"] == "warning"
    assert "webhook_forged_accepted" not in f
    c.close()


def test_slow_receiver_is_info(start_mock, tmp_path, receiver):
    c = hooked(start_mock, tmp_path, receiver,
               "audit:\n  webhook_slow_receiver: {slower_than: 100ms}\n")
    receiver.delay = 0.3
    deliver(c, receiver, 1)
    assert findings(c)["webhook_slow_receiver"]["severity"] == "info"
    attempt = c.get("/__admin/webhooks").json()["attempts"][0]
    assert 300 <= attempt["wait_ms"] <= attempt["duration_ms"]
    c.close()


def test_quick_receiver_is_not_slow(start_mock, tmp_path, receiver):
    c = hooked(start_mock, tmp_path, receiver)
    deliver(c, receiver, 1)
    assert "webhook_slow_receiver" not in findings(c)
    c.close()


def test_deliveries_without_certificate_checks_are_a_warning(
        start_mock, tmp_path, receiver):
    c = hooked(start_mock, tmp_path, receiver, "  verify_tls: false\n")
    deliver(c, receiver, 1)
    f = findings(c)
    assert f["webhook_tls_unverified"]["severity"] == "warning"
    assert "webhook_plain_http" not in f
    c.close()


def test_plain_http_subscription_is_a_warning(start_mock, tmp_path):
    mock = start_mock("--scenario", scenario(
        tmp_path, "webhooks: {allow_http: true}\n"))
    c = mock.client()
    r = c.post("/api/subscriptions", {
        "name": "plain", "type": "webhook", "environment": "sandbox",
        "url": "http://127.0.0.1:9/hook"}, token=org_token(c))
    assert r.status == 201, r.body
    f = findings(c)["webhook_plain_http"]
    assert f["severity"] == "warning"
    assert f["example_request_id"] == r.header("X-Request-Id")
    c.close()


# ---- settings, reset, renderings -----------------------------------------

def test_a_rule_turned_off_stays_silent_and_is_skipped_in_junit(
        start_mock, tmp_path):
    mock = start_mock("--scenario", scenario(
        tmp_path, "audit:\n  privileged_token_in_browser: off\n"))
    c = mock.client()
    c.get(ORG_PATH, token=org_token(c), headers={"Origin": "https://x.test"})
    body = c.get("/__admin/findings").json()
    assert body["findings"] == []
    rules = {r["rule"]: r for r in body["rules"]}
    assert rules["privileged_token_in_browser"]["enabled"] is False
    root = ET.fromstring(c.get("/__admin/findings?format=junit").body)
    case = [t for t in root.iter("testcase")
            if t.get("name") == "privileged_token_in_browser"][0]
    assert case.find("skipped") is not None
    c.close()


def test_thresholds_come_from_the_scenario(start_mock, tmp_path):
    mock = start_mock("--scenario", scenario(
        tmp_path, "tokens: {organization_ttl: 60s}\n"
                  "audit:\n  expired_token_resent: {threshold: 0}\n"))
    c = mock.client()
    tok = org_token(c)
    advance(c, 61)
    c.get(ORG_PATH, token=tok)
    assert "expired_token_resent" not in findings(c)
    c.get(ORG_PATH, token=tok)
    assert findings(c)["expired_token_resent"]["count"] == 1
    c.close()


@pytest.mark.parametrize("text,where", [
    ("audit:\n  no_such_rule: off\n", (5, 3, "unknown key")),
    ("audit:\n  expired_token_resent: {threshold: -1}\n",
     (5, 37, "whole number")),
    ("audit:\n  credentials_in_query: {threshold: 2}\n",
     (5, 26, "unknown key")),
    ("audit:\n  max_tracked: 3\n", (5, 16, "out of range")),
    ("audit: [on]\n", (4, 8, "expected a mapping")),
])
def test_bad_audit_settings_are_refused_with_their_place(client, text,
                                                         where):
    r = client.put("/__admin/scenario", "name: bad\nextends: default\n"
                   "# audit settings\n" + text,
                   headers={"Content-Type": "application/yaml"})
    assert r.status == 400, r.body
    body = r.json()
    assert (body["line"], body["column"]) == where[:2], body
    assert where[2] in body["reason"], body
    assert body["error_message"].startswith("request:%d:%d:" % where[:2])


def test_reset_and_scenario_swap_forget_findings(client):
    tok = org_token(client)
    client.get(ORG_PATH, token=tok, headers={"Origin": "https://x.test"})
    assert findings(client)
    assert client.post("/__admin/reset").status == 200
    assert findings(client) == {}
    tok = org_token(client)
    client.get(ORG_PATH, token=tok, headers={"Origin": "https://x.test"})
    assert findings(client)
    r = client.put("/__admin/scenario", "name: again\nextends: default\n",
                   headers={"Content-Type": "application/yaml"})
    assert r.status == 200
    assert findings(client) == {}


def test_junit_has_one_failed_case_per_fired_rule(client):
    tok = org_token(client)
    client.get(ORG_PATH, token=tok, headers={"Origin": "https://x.test"})
    client.post("/oauth/token?client_secret=x", body="",
                headers={"Content-Type": "application/json"})
    r = client.get("/__admin/findings?format=junit")
    assert r.status == 200
    assert r.header("Content-Type").startswith("application/xml")
    root = ET.fromstring(r.body)
    cases = {t.get("name"): t for t in root.iter("testcase")}
    assert set(cases) == set(RULES)
    failed = {n for n, t in cases.items() if t.find("failure") is not None}
    assert failed == {"privileged_token_in_browser", "credentials_in_query"}
    suite = root.find("testsuite")
    assert suite.get("tests") == str(len(RULES))
    assert suite.get("failures") == "2"
    f = cases["credentials_in_query"].find("failure")
    assert f.get("type") == "critical"


def test_unknown_format_is_refused(client):
    r = client.get("/__admin/findings?format=csv")
    assert r.status == 400
    assert r.json()["message_code"] == "invalid_parameter"


# ---- --fail-on and the summary -------------------------------------------

def run_and_stop(start_mock, *args, bad=None, env=None):
    mock = start_mock(*args, env=env)
    c = mock.client()
    if bad == "critical":
        c.get(ORG_PATH, token=org_token(c),
              headers={"Origin": "https://x.test"})
    elif bad == "info":
        Tokens(c).customer(("customers:read", "customers:write"))
    elif bad == "warning":
        for _ in range(5):
            c.get(ORG_PATH, token=org_token(c))
    c.close()
    mock.signal(signal.SIGTERM)
    code = mock.proc.wait(timeout=10)
    err = mock.stderr()
    mock.stop(check=False)
    return code, err


def test_fail_on_exits_3_when_findings_reach_the_severity(start_mock):
    code, err = run_and_stop(start_mock, "--fail-on", "critical",
                             bad="critical")
    assert code == 3, err
    assert "audit summary" in err
    assert "privileged_token_in_browser" in err


def test_fail_on_exits_0_on_a_clean_run(start_mock):
    code, err = run_and_stop(start_mock, "--fail-on", "info")
    assert code == 0, err
    assert "no findings" in err


def test_fail_on_exits_0_below_the_severity(start_mock):
    code, err = run_and_stop(start_mock, bad="warning",
                             env={"CYBRID_MOCK_FAIL_ON": "critical"})
    assert code == 0, err
    assert "tokens_not_cached" in err


def test_fail_on_counts_severities_above_it(start_mock):
    code, err = run_and_stop(start_mock, "--fail-on", "info", bad="warning")
    assert code == 3, err


def test_fail_on_info_counts_end_of_run_findings(start_mock):
    code, err = run_and_stop(start_mock, "--fail-on", "info", bad="info")
    assert code == 3, err


def test_summary_is_printed_without_fail_on(start_mock):
    code, err = run_and_stop(start_mock, bad="critical")
    assert code == 0, err
    assert "privileged_token_in_browser" in err


def test_summary_follows_json_log_format(start_mock):
    import json
    code, err = run_and_stop(start_mock, "--log-format", "json",
                             "--fail-on", "warning", bad="critical")
    assert code == 3, err
    lines = [json.loads(x) for x in err.splitlines() if x]
    rows = [x for x in lines if x.get("event") == "audit_finding"]
    assert [r["rule"] for r in rows] == ["privileged_token_in_browser"]
    assert lines[-1] == {"event": "audit_summary", "findings": 1,
                         "failed": True}


def test_bad_fail_on_value_exits_2(start_mock, tmp_path):
    import subprocess
    from conftest import BINARY
    p = subprocess.run([BINARY, "--fail-on", "severe"], capture_output=True)
    assert p.returncode == 2
    assert b"--fail-on" in p.stderr
