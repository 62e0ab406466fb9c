"""Fault injection, the timeline, the request journal and the admin token,
against the real binary.

Each test writes a small scenario extending the built-in default, starts
the mock on it and checks what a client sees on the wire. Dropped and
truncated answers are read with a raw TLS socket, so what was (not) sent
is seen byte for byte.
"""
import http.client
import json
import socket
import ssl
import time
import urllib.parse

import pytest

from conftest import BANK_CLIENT, ORG_GUID, fetch_token

ORG_PATH = "/api/organizations/" + ORG_GUID


def start(start_mock, tmp_path, body, *args, env=None):
    path = tmp_path / "scenario.yaml"
    path.write_text("name: test\nextends: default\n" + body)
    return start_mock("--scenario", str(path), *args, env=env)


def raw(mock, method, path, timeout=10.0, headers=""):
    """Sends one request on a fresh TLS connection; returns every byte the
    mock sent before closing, or raises on a reset."""
    parts = urllib.parse.urlsplit(mock.url)
    ctx = ssl.create_default_context(cafile=mock.ca)
    sock = socket.create_connection((parts.hostname, parts.port),
                                    timeout=timeout)
    tls = ctx.wrap_socket(sock, server_hostname=parts.hostname)
    try:
        tls.sendall(("%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "%s\r\n"
                     % (method, path, headers)).encode())
        data = b""
        while True:
            try:
                chunk = tls.recv(65536)
            except ssl.SSLError:
                break  # EOF without close_notify
            if not chunk:
                break
            data += chunk
        return data
    finally:
        tls.close()


def split(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, body


def journal(client, query=""):
    r = client.get("/__admin/requests" + query)
    assert r.status == 200, r.body
    return r.json()


def wait_journal(client, query, count=1, limit=10.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        j = journal(client, query)
        if len(j["entries"]) >= count:
            return j
        time.sleep(0.05)
    raise AssertionError("journal never held %d entries for %s"
                         % (count, query))


def metric(client, name, labels=""):
    text = client.get("/__admin/metrics").body.decode()
    want = name + ("{" + labels + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith(want + " "):
            return float(line.split()[-1])
    return None


# ---- actions ---------------------------------------------------------------

def test_respond_answers_status_headers_and_cybrid_error_body(
        start_mock, tmp_path):
    mock = start(start_mock, tmp_path,
                 "faults:\n"
                 "  - name: down\n"
                 "    match: {method: GET, path: /api/things/*}\n"
                 "    respond: {status: 503, headers: {Retry-After: '7'}}\n"
                 "  - match: {path: /api/raw}\n"
                 "    respond: {status: 418, body: 'tea',\n"
                 "              headers: {Content-Type: text/plain}}\n")
    c = mock.client()
    r = c.get("/api/things/1")
    assert r.status == 503
    assert r.header("Retry-After") == "7"
    assert r.json() == {"status": 503, "message_code": "service_unavailable",
                        "error_message": "injected by fault down"}
    assert c.get("/api/things/1/x").status == 404  # * is one segment
    assert c.post("/api/things/1", {}).status == 404  # method differs
    r = c.get("/api/raw")
    assert (r.status, r.body, r.header("Content-Type")) == (
        418, b"tea", "text/plain")
    c.close()
    assert "path=/api/things/1 status=503" in mock.stderr()
    assert "fault=down" in mock.stderr()


def test_after_and_times_fire_on_the_matches_they_say(start_mock, tmp_path):
    mock = start(start_mock, tmp_path,
                 "faults:\n"
                 "  - match: {path: /api/x}\n"
                 "    after: 2\n"
                 "    times: 2\n"
                 "    respond: {status: 500}\n")
    c = mock.client()
    got = [c.get("/api/x").status for _ in range(6)]
    assert got == [404, 404, 500, 500, 404, 404]
    c.close()


def test_probability_with_seed_repeats_after_reset(start_mock, tmp_path):
    mock = start(start_mock, tmp_path,
                 "faults:\n"
                 "  - match: {path: /api/x}\n"
                 "    probability: 0.5\n"
                 "    seed: 1234\n"
                 "    respond: {status: 500}\n")
    c = mock.client()
    first = [c.get("/api/x").status for _ in range(30)]
    assert c.post("/__admin/reset").status == 200
    second = [c.get("/api/x").status for _ in range(30)]
    assert first == second
    assert 500 in first and 404 in first
    c.close()


def test_header_and_token_type_matchers(start_mock, tmp_path):
    mock = start(start_mock, tmp_path,
                 "faults:\n"
                 "  - match: {headers: {X-Chaos: 'on'}}\n"
                 "    respond: {status: 502}\n"
                 "  - match: {token_type: bank, path: /api/**}\n"
                 "    respond: {status: 504}\n"
                 "  - match: {headers: {X-Absent-Test: false},\n"
                 "            path: /api/absent}\n"
                 "    respond: {status: 501}\n")
    c = mock.client()
    bank = fetch_token(c, BANK_CLIENT)["access_token"]
    assert c.get("/api/y", headers={"X-Chaos": "on"}).status == 502
    assert c.get("/api/y", headers={"X-Chaos": "off"}).status == 404
    assert c.get("/api/y", token=bank).status == 504
    assert c.get("/api/y", token="not-a-token").status == 404
    assert c.get("/api/absent").status == 501
    assert c.get("/api/absent",
                 headers={"X-Absent-Test": "1"}).status == 404
    c.close()


def test_delay_answers_normally_after_waiting(start_mock, tmp_path):
    mock = start(start_mock, tmp_path,
                 "faults:\n"
                 "  - {match: {path: /api/slow}, delay: 400ms}\n")
    c = mock.client()
    assert c.get("/api/slow").status == 404  # normal handling
    entry = journal(c, "?path=/api/slow")["entries"][0]
    assert entry["duration_ms"] >= 400
    assert entry["faults"] == [{"name": "fault-1", "action": "delay"}]
    c.close()


def test_reset_drops_the_connection_with_no_answer(start_mock, tmp_path):
    mock = start(start_mock, tmp_path,
                 "faults:\n"
                 "  - {match: {path: /api/drop}, action: reset}\n")
    try:
        data = raw(mock, "GET", "/api/drop")
    except ConnectionResetError:
        data = b""
    assert data == b""
    c = mock.client()
    with pytest.raises((http.client.HTTPException, OSError)):
        c.get("/api/drop")
    c = mock.client()
    assert c.get("/__admin/health").status == 200  # the mock lives on
    entry = journal(c, "?path=/api/drop")["entries"][0]
    assert entry["status"] == 0
    assert entry["faults"][0]["action"] == "reset"
    c.close()


def test_truncate_promises_the_whole_body_and_sends_part(start_mock,
                                                         tmp_path):
    mock = start(start_mock, tmp_path,
                 "faults:\n"
                 "  - {match: {path: /api/cut}, action: truncate,\n"
                 "     keep_bytes: 10}\n"
                 "  - {match: {path: /api/half}, action: truncate}\n")
    status, headers, body = split(raw(mock, "GET", "/api/cut"))
    assert status == 404
    assert int(headers["content-length"]) > 10
    assert len(body) == 10
    status, headers, body = split(raw(mock, "GET", "/api/half"))
    assert len(body) == int(headers["content-length"]) // 2
    c = mock.client()
    with pytest.raises(http.client.IncompleteRead):
        c.get("/api/cut")
    c.close()


def test_malformed_answers_200_with_a_body_that_is_not_json(start_mock,
                                                            tmp_path):
    mock = start(start_mock, tmp_path,
                 "faults:\n"
                 "  - {match: {path: /api/bad}, action: malformed}\n")
    c = mock.client()
    r = c.get("/api/bad")
    assert r.status == 200
    assert r.header("Content-Type").startswith("application/json")
    with pytest.raises(ValueError):
        json.loads(r.body)
    c.close()


def test_hang_ends_when_the_bound_passes_without_an_answer(start_mock,
                                                           tmp_path):
    mock = start(start_mock, tmp_path,
                 "faults:\n"
                 "  - {match: {path: /api/hang}, action: hang,\n"
                 "     hang_for: 300ms}\n")
    assert raw(mock, "GET", "/api/hang") == b""
    c = mock.client()
    entry = journal(c, "?path=/api/hang")["entries"][0]
    assert entry["status"] == 0 and entry["duration_ms"] >= 300
    c.close()


def hanging_request(mock, client):
    """Opens a TLS connection, sends GET /api/hang on it and returns the
    socket once the mock has matched the hang rule (so the request is in
    the mock's hands, however slow the mock is)."""
    parts = urllib.parse.urlsplit(mock.url)
    ctx = ssl.create_default_context(cafile=mock.ca)
    sock = ctx.wrap_socket(socket.create_connection(
        (parts.hostname, parts.port), timeout=10),
        server_hostname=parts.hostname)
    sock.sendall(b"GET /api/hang HTTP/1.1\r\nHost: x\r\n\r\n")
    deadline = time.monotonic() + 10
    while client.get("/__admin/scenario").json()["faults"][0]["fired"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return sock


def test_hang_ends_when_the_client_gives_up(start_mock, tmp_path):
    mock = start(start_mock, tmp_path,
                 "faults:\n"
                 "  - {match: {path: /api/hang}, action: hang,\n"
                 "     hang_for: 10m}\n")
    c = mock.client()
    sock = hanging_request(mock, c)
    sock.settimeout(0.3)
    with pytest.raises(socket.timeout):
        sock.recv(1)
    sock.close()
    # Recorded once the mock noticed the client left, not after 10 min.
    entry = wait_journal(c, "?path=/api/hang")["entries"][0]
    assert entry["status"] == 0
    c.close()


def test_hang_is_cut_short_by_shutdown(start_mock, tmp_path):
    mock = start(start_mock, tmp_path,
                 "faults:\n"
                 "  - {match: {path: /api/hang}, action: hang,\n"
                 "     hang_for: 10m}\n")
    c = mock.client()
    sock = hanging_request(mock, c)
    c.close()
    assert mock.stop() == 0  # within the fixture's 5 s bound
    sock.close()


def test_expire_tokens_makes_earlier_tokens_401(start_mock, tmp_path):
    mock = start(start_mock, tmp_path,
                 "faults:\n"
                 "  - match: {path: /api/organizations/*}\n"
                 "    times: 1\n"
                 "    action: expire_tokens\n")
    c = mock.client()
    org = fetch_token(c, ("mock-org-client-id",
                          "mock-org-client-secret"))["access_token"]
    r = c.get(ORG_PATH, token=org)
    assert r.status == 401
    assert r.json()["error_message"] == "the token has expired"
    fresh = fetch_token(c, ("mock-org-client-id",
                            "mock-org-client-secret"))["access_token"]
    assert c.get(ORG_PATH, token=fresh).status == 200
    assert c.get(ORG_PATH, token=org).status == 401
    c.close()


def test_rate_limit_answers_as_the_class_would(start_mock, tmp_path):
    mock = start(start_mock, tmp_path,
                 "faults:\n"
                 "  - {match: {path: /api/**}, action: rate_limit, times: 1}\n"
                 "  - {match: {path: /oauth/token}, action: rate_limit,\n"
                 "     times: 1}\n")
    c = mock.client()
    r = c.get("/api/anything")
    assert r.status == 429
    assert r.json()["message_code"] == "rate_limited"
    assert int(r.header("Retry-After")) >= 1
    r = c.post("/oauth/token", {"grant_type": "client_credentials"})
    assert r.status == 403
    assert r.json()["message_code"] == "rate_limited"
    assert c.get("/api/anything").status == 404
    c.close()


def test_admin_routes_are_never_faulted(start_mock, tmp_path):
    mock = start(start_mock, tmp_path,
                 "faults:\n  - {action: reset}\n")
    c = mock.client()
    assert c.get("/__admin/health").status == 200
    state = c.get("/__admin/scenario").json()
    assert state["faults"] == [{"name": "fault-1", "action": "reset",
                                "matches": 0, "fired": 0}]
    c.close()


def test_put_scenario_swaps_faults_and_a_refused_one_keeps_them(
        start_mock, tmp_path):
    mock = start(start_mock, tmp_path,
                 "faults:\n  - {match: {path: /api/a}, respond: "
                 "{status: 500}}\n")
    c = mock.client()
    assert c.get("/api/a").status == 500
    yaml_type = {"Content-Type": "application/yaml"}
    r = c.put("/__admin/scenario", "extends: default\nfaults:\n"
              "  - {match: {path: /api/a}, action: rate_limit, times: 1}\n",
              headers=yaml_type)
    assert r.status == 200, r.body
    assert r.json()["faults"][0]["action"] == "rate_limit"
    assert c.get("/api/a").status == 429
    assert c.get("/api/a").status == 404
    r = c.put("/__admin/scenario", "extends: default\nfaults:\n"
              "  - {match: {path: /api/a}, action: explode}\n",
              headers=yaml_type)
    assert r.status == 400
    assert (r.json()["line"], r.json()["column"]) == (3, 37)
    state = c.get("/__admin/scenario").json()["faults"]
    assert state == [{"name": "fault-1", "action": "rate_limit",
                      "matches": 2, "fired": 1}]
    c.close()


# ---- timeline --------------------------------------------------------------

def test_timeline_at_fires_on_clock_advance(start_mock, tmp_path):
    mock = start(start_mock, tmp_path,
                 "timeline:\n"
                 "  - name: revoke\n"
                 "    at: 1h\n"
                 "    expire_tokens: true\n"
                 "  - name: event\n"
                 "    at: 2h\n"
                 "    emit: {event_type: trade.completed}\n")
    c = mock.client()
    org = fetch_token(c, ("mock-org-client-id",
                          "mock-org-client-secret"))["access_token"]
    assert c.get(ORG_PATH, token=org).status == 200
    state = {e["name"]: e for e in c.get("/__admin/scenario").json()
             ["timeline"]}
    assert state["revoke"]["fired"] == 0
    assert c.post("/__admin/clock/advance", {"seconds": 3600}).status == 200
    state = {e["name"]: e for e in c.get("/__admin/scenario").json()
             ["timeline"]}
    assert state["revoke"]["fired"] == 1
    assert state["event"]["fired"] == 0
    assert c.get(ORG_PATH, token=org).status == 401
    org = fetch_token(c, ("mock-org-client-id",
                          "mock-org-client-secret"))["access_token"]
    events = c.get("/api/subscription_events", token=org).json()
    assert events["total"] == 0
    c.post("/__admin/clock/advance", {"seconds": 3600})
    events = c.get("/api/subscription_events", token=org).json()
    assert events["total"] == 1
    assert events["objects"][0]["event_type"] == "trade.completed"
    # Reset starts the timeline over.
    c.post("/__admin/reset")
    state = c.get("/__admin/scenario").json()["timeline"]
    assert [e["fired"] for e in state] == [0, 0]
    c.close()


def test_timeline_on_fires_on_matching_requests_times(start_mock, tmp_path):
    mock = start(start_mock, tmp_path,
                 "timeline:\n"
                 "  - name: tighten\n"
                 "    on: {method: GET, path: /api/trigger}\n"
                 "    times: 1\n"
                 "    rate_limits: {general: {limit: 2, window: 1h}}\n"
                 "  - name: emit-twice\n"
                 "    on: {method: POST, path: /api/emit}\n"
                 "    times: 2\n"
                 "    emit: {event_type: trade.completed}\n")
    c = mock.client()
    for _ in range(3):
        c.post("/api/emit", {})
    state = {e["name"]: e for e in c.get("/__admin/scenario").json()
             ["timeline"]}
    assert state["emit-twice"]["fired"] == 2
    assert state["emit-twice"]["matches"] == 3
    for _ in range(5):  # the default limit of 100 lets these through
        assert c.get("/api/other").status == 404
    assert c.get("/api/trigger").status == 404
    # Windows are kept: nine requests already count against the new 2.
    got = [c.get("/api/other").status for _ in range(3)]
    assert got == [429, 429, 429]
    c.close()


# ---- journal ---------------------------------------------------------------

def test_journal_bound_drops_oldest_and_counts(start_mock, tmp_path):
    mock = start_mock("--journal-size", "3")
    c = mock.client()
    for i in range(5):
        c.get("/api/n%d" % i)
    j = journal(c)
    assert (j["total"], j["held"], j["dropped"], j["size"]) == (5, 3, 2, 3)
    assert [e["path"] for e in j["entries"]] == ["/api/n4", "/api/n3",
                                                 "/api/n2"]
    assert metric(c, "cybrid_mock_journal_entries") == 3
    assert metric(c, "cybrid_mock_journal_dropped_total") == 2
    r = c.delete("/__admin/requests")
    assert r.json() == {"cleared": 3}
    j = journal(c)
    assert (j["total"], j["held"], j["dropped"]) == (0, 0, 0)
    c.close()


def test_journal_size_from_the_environment_and_bad_sizes_refused(
        start_mock, tmp_path):
    import subprocess
    from conftest import BINARY
    mock = start_mock(env={"CYBRID_MOCK_JOURNAL_SIZE": "2"})
    c = mock.client()
    assert journal(c)["size"] == 2
    c.close()
    for bad in ("0", "1000001", "many"):
        out = subprocess.run([BINARY, "--journal-size", bad,
                              "--tls-dir", str(tmp_path / "bad")],
                             capture_output=True, timeout=10)
        assert out.returncode == 2, bad
        assert b"--journal-size" in out.stderr


def test_journal_entry_fields_and_no_secrets(client):
    org_client = ("mock-org-client-id", "mock-org-client-secret")
    tok = fetch_token(client, org_client)
    r = client.get(ORG_PATH + "?x=secret-query", token=tok["access_token"])
    assert r.status == 200
    raw_text = client.get("/__admin/requests").body.decode()
    for secret in (tok["access_token"], org_client[1], "secret-query"):
        assert secret not in raw_text
    entries = json.loads(raw_text)["entries"]
    e = entries[0]
    assert e["id"] == r.header("X-Request-Id")
    assert e["method"] == "GET" and e["path"] == ORG_PATH
    assert e["status"] == 200
    assert e["token_type"] == "organization"
    assert e["subject"] == ORG_GUID
    assert e["client"] == "127.0.0.1"
    assert e["faults"] == [] and e["message_code"] is None
    assert e["time"].endswith("Z") and e["real_time"].endswith("Z")
    assert entries[1]["path"] == "/oauth/token"
    assert entries[1]["token_type"] is None
    # Admin requests are not journaled.
    assert all(not x["path"].startswith("/__admin") for x in entries)
    # An error's message_code is.
    client.get(ORG_PATH, token="bad")
    assert journal(client)["entries"][0]["message_code"] == "unauthorized"


def test_journal_filters(client):
    client.get("/api/a")
    client.post("/api/b", {})
    client.get("/api/c/d")
    t = journal(client)["entries"][0]["time_ms"]
    client.post("/__admin/clock/advance", {"seconds": 10})
    client.get("/api/e")

    def paths(q):
        return [e["path"] for e in journal(client, q)["entries"]]

    assert paths("?method=POST") == ["/api/b"]
    assert paths("?path=/api/*") == ["/api/e", "/api/b", "/api/a"]
    assert paths("?path=/api/**&limit=2") == ["/api/e", "/api/c/d"]
    assert paths("?status=404&limit=1") == ["/api/e"]
    assert paths("?status=4xx&method=GET&path=/api/c/*") == ["/api/c/d"]
    assert paths("?status=200") == []
    assert paths("?since=%d" % ((t + 5000) // 1000)) == ["/api/e"]
    iso = journal(client, "?path=/api/e")["entries"][0]["time"]
    assert paths("?since=" + urllib.parse.quote(iso)) == ["/api/e"]
    assert journal(client, "?limit=1")["matched"] == 4
    for bad in ("?status=abc", "?since=yesterday", "?limit=0",
                "?path=nope", "?limit=x"):
        r = client.get("/__admin/requests" + bad)
        assert r.status == 400, bad
        assert r.json()["message_code"] == "invalid_parameter"


def test_reset_empties_the_journal(client):
    client.get("/api/a")
    assert journal(client)["held"] == 1
    client.post("/__admin/reset")
    assert journal(client)["held"] == 0


# ---- metrics ---------------------------------------------------------------

def test_fault_and_timeline_metrics_are_present_and_move(start_mock,
                                                         tmp_path):
    mock = start(start_mock, tmp_path,
                 "faults:\n"
                 "  - {match: {path: /api/m}, respond: {status: 500}}\n"
                 "timeline:\n"
                 "  - {at: 1m, expire_tokens: true}\n")
    c = mock.client()
    labels = 'action="respond"'
    assert metric(c, "cybrid_mock_faults_fired_total", labels) == 0
    assert metric(c, "cybrid_mock_faults_fired_total",
                  'action="reset"') == 0
    assert metric(c, "cybrid_mock_timeline_fired_total") == 0
    c.get("/api/m")
    c.get("/api/m")
    assert metric(c, "cybrid_mock_faults_fired_total", labels) == 2
    c.post("/__admin/clock/advance", {"seconds": 60})
    assert metric(c, "cybrid_mock_timeline_fired_total") == 1
    c.close()


# ---- admin token -----------------------------------------------------------

@pytest.mark.parametrize("how", ["flag", "env"])
def test_admin_token_guards_every_admin_route_but_health(start_mock, how):
    if how == "flag":
        mock = start_mock("--admin-token", "s3cret-admin")
    else:
        mock = start_mock(env={"CYBRID_MOCK_ADMIN_TOKEN": "s3cret-admin"})
    c = mock.client()
    assert c.get("/__admin/health").status == 200
    for method, path in (("GET", "/__admin/requests"),
                         ("GET", "/__admin/metrics"),
                         ("GET", "/__admin/scenario"),
                         ("POST", "/__admin/reset"),
                         ("DELETE", "/__admin/requests")):
        r = c.request(method, path)
        assert r.status == 401, path
        assert r.json()["message_code"] == "unauthorized"
        assert r.header("WWW-Authenticate").startswith("Bearer")
        r = c.request(method, path, token="s3cret-admi")
        assert r.status == 401, path
        r = c.request(method, path, token="s3cret-admin")
        assert r.status == 200, path
    # The API itself does not take the admin token.
    assert c.get("/api/x").status == 404
    c.close()
    assert "s3cret-admin" not in mock.stderr()
