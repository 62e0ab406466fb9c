"""Hostile input against the real binary.

Each case sends what a broken or malicious client (or webhook receiver)
would, over raw TLS sockets where http.client would refuse to, and
checks three things: the answer is a Cybrid error body (or the
connection is closed within a bound), the server keeps serving
(GET /__admin/health after each), and every refused request is in the
journal (GET /__admin/requests) or counted as dropped there.

The mocks here run with --request-timeout 1000 and --max-body 4096, so
slow clients are cut off in about a second, not ten.
"""
import json
import select
import socket
import ssl
import threading
import time
import urllib.parse

import pytest

from conftest import BANK_GUID
from receiver import make_certificates

TIMEOUT_MS = 1000
MAX_BODY = 4096


@pytest.fixture
def hostile(start_mock):
    return start_mock("--request-timeout", str(TIMEOUT_MS),
                      "--max-body", str(MAX_BODY), "--threads", "8")


def tls(mock, timeout=10.0):
    parts = urllib.parse.urlsplit(mock.url)
    ctx = ssl.create_default_context(cafile=mock.ca)
    raw = socket.create_connection((parts.hostname, parts.port),
                                   timeout=timeout)
    return ctx.wrap_socket(raw, server_hostname=parts.hostname)


def exchange(mock, data, timeout=10.0):
    """Sends raw bytes on a new connection; reads until the server closes
    it or goes quiet. Returns (bytes read, closed by the server)."""
    s = tls(mock, timeout)
    try:
        s.sendall(data)
    except (ssl.SSLError, OSError):
        pass  # the server may refuse before reading everything
    out, closed = b"", False
    s.settimeout(timeout)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            out += chunk
            if complete(out) and b"Connection: close" not in out:
                s.settimeout(0.5)  # anything after the answer?
    except socket.timeout:
        pass
    except (ssl.SSLError, OSError):
        closed = True
    s.close()
    return out, closed


def complete(data):
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def parse(data):
    """The first response in data: (status, headers, json body)."""
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode()] = value.strip().decode()
    length = int(headers.get("content-length", "0"))
    return status, headers, json.loads(rest[:length]) if length else None


def assert_cybrid_error(data, status, code=None):
    got, headers, body = parse(data)
    assert got == status, data[:400]
    assert body["status"] == status and body["error_message"], body
    if code is not None:
        assert body["message_code"] == code, body
    return headers


def healthy(mock):
    c = mock.client()
    try:
        r = c.get("/__admin/health")
        assert r.status == 200 and r.json()["status"] == "ok"
    finally:
        c.close()


def journal(mock):
    c = mock.client()
    try:
        r = c.get("/__admin/requests")
        assert r.status == 200, r.body
        return r.json()
    finally:
        c.close()


def assert_journaled(mock, request_ids):
    """Every id is in the journal, or the journal counts drops."""
    j = journal(mock)
    assert j["total"] == j["held"] + j["dropped"]
    held = {e["id"] for e in j["entries"]}
    missing = [i for i in request_ids if i not in held]
    assert not missing or j["dropped"] >= len(missing), (missing, j)


def request(method, path, body=b"", headers=(), content_type=None):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1"]
    if content_type:
        lines.append("Content-Type: " + content_type)
    lines += list(headers)
    if body is not None and not any(
            h.lower().startswith(("content-length", "transfer-encoding"))
            for h in headers):
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


# ---- bodies and framing -------------------------------------------------

def test_body_over_the_cap_gets_413_and_a_close(hostile):
    data, closed = exchange(hostile, request(
        "POST", "/__admin/events", b"{" + b" " * (MAX_BODY + 10) + b"}",
        content_type="application/json"))
    h = assert_cybrid_error(data, 413, "payload_too_large")
    assert h["connection"] == "close" and closed
    big = request("POST", "/__admin/events", None,
                  ("Content-Length: 1073741824",), "application/json")
    data, closed = exchange(hostile, big)  # announced, never sent
    assert_cybrid_error(data, 413, "payload_too_large")
    assert closed
    healthy(hostile)


def test_chunked_body_over_the_cap_gets_413(hostile):
    chunk = b"%x\r\n%s\r\n" % (MAX_BODY + 100, b"x" * (MAX_BODY + 100))
    data, closed = exchange(hostile, request(
        "POST", "/__admin/events", chunk + b"0\r\n\r\n",
        ("Transfer-Encoding: chunked",), "application/json"))
    assert_cybrid_error(data, 413, "payload_too_large")
    assert closed
    healthy(hostile)


def test_content_length_shorter_than_the_body(hostile):
    body = b'{"seconds": 1}'
    data, _ = exchange(hostile, request(
        "POST", "/__admin/clock/advance", body,
        ("Content-Length: 5",), "application/json"), timeout=5)
    assert_cybrid_error(data, 400, "invalid_json")
    healthy(hostile)


def test_content_length_longer_than_the_body_times_out_with_400(hostile):
    body = b"grant_type=client_credentials"
    data, closed = exchange(hostile, request(
        "POST", "/oauth/token", body, ("Content-Length: 500",),
        "application/x-www-form-urlencoded"), timeout=30)
    h = assert_cybrid_error(data, 400)
    assert closed
    healthy(hostile)
    assert_journaled(hostile, [h["x-request-id"]])


def test_transfer_encoding_with_content_length_is_refused(hostile):
    body = b'e\r\n{"seconds": 1}\r\n0\r\n\r\n'
    data, closed = exchange(hostile, request(
        "POST", "/api/subscriptions", body,
        ("Content-Length: 5", "Transfer-Encoding: chunked"),
        "application/json"))
    h = assert_cybrid_error(data, 400, "invalid_request")
    assert closed
    healthy(hostile)
    assert_journaled(hostile, [h["x-request-id"]])


# ---- headers --------------------------------------------------------------

def test_many_headers_get_431(hostile):
    many = tuple("X-Filler-%d: %d" % (i, i) for i in range(200))
    data, closed = exchange(hostile, request("GET", "/api/banks", None, many))
    h = assert_cybrid_error(data, 431, "invalid_request")
    assert closed
    assert_journaled(hostile, [h["x-request-id"]])
    healthy(hostile)


def test_long_header_line_is_refused_and_closed(hostile):
    data, closed = exchange(hostile, request(
        "GET", "/api/banks", None, ("X-Long: " + "a" * 100000,)))
    assert closed
    # civetweb closes before reading it all: the reset may eat the answer.
    if complete(data):
        h = assert_cybrid_error(data, 400, "invalid_request")
        assert_journaled(hostile, [h["x-request-id"]])
    healthy(hostile)


def test_slow_header_client_is_cut_off_while_others_are_served(hostile):
    s = tls(hostile)
    line = b"GET /api/banks HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
    sent, answer = 0, None
    # One byte a second: the server must close long before 30 are sent.
    for i in range(30):
        try:
            s.send(line[i:i + 1] if i < len(line) else b"a")
        except (ssl.SSLError, OSError):
            answer = b""
            break
        sent += 1
        if i == 1:
            healthy(hostile)  # others are served meanwhile
        ready, _, _ = select.select([s], [], [], 1.0)
        if ready:
            try:
                answer = s.recv(65536)
            except (ssl.SSLError, OSError):
                answer = b""
            break
    s.close()
    assert answer is not None, "still open after %d bytes" % sent
    assert sent < 30
    if answer:
        assert parse(answer)[0] in (400, 408)
    healthy(hostile)


# ---- JSON -----------------------------------------------------------------

@pytest.mark.parametrize("body", [
    b'{"a": ' + b"[" * 10000 + b"]" * 10000 + b"}",
    b'{"a": ' + b'{"b": ' * 10000 + b"1" + b"}" * 10000 + b"}",
    b'{"name": "x", "name": "y"}',
    b'{"name": "caf\xe9"}',
    b'{"name": "\xed\xa0\x80"}',
    b'{"name": "x\\u0000y"}',
    b'{"name": "x\x00y"}',
    b'{"name": "tab\there"}',
], ids=["deep_arrays", "deep_objects", "duplicate_key", "latin1",
        "surrogate", "u0000", "nul_byte", "raw_control"])
def test_hostile_json_gets_invalid_json_everywhere(hostile, tokens_raw, body):
    token = tokens_raw(hostile)
    ids = []
    for path, tok in (("/api/subscriptions", token),
                      ("/__admin/events", None),
                      ("/__admin/clock/advance", None)):
        headers = ("Authorization: Bearer " + tok,) if tok else ()
        big = len(body) > MAX_BODY
        data, _ = exchange(hostile, request("POST", path, body, headers,
                                            "application/json"))
        h = assert_cybrid_error(data, 413 if big else 400,
                                "payload_too_large" if big else "invalid_json")
        ids.append(h["x-request-id"])
    healthy(hostile)


def test_deep_json_under_a_large_cap_is_invalid_json(start_mock):
    mock = start_mock("--max-body", "1048576")
    body = b'{"seconds": ' + b"[" * 10000 + b"]" * 10000 + b"}"
    data, _ = exchange(mock, request("POST", "/__admin/clock/advance", body,
                                     content_type="application/json"))
    assert_cybrid_error(data, 400, "invalid_json")
    healthy(mock)


@pytest.mark.parametrize("number", [b"1e400", b"-1e400",
                                    b"123456789012345678901234567890",
                                    b"1e-400", b"-0"])
def test_huge_numbers_get_a_clear_error(hostile, number):
    data, _ = exchange(hostile, request(
        "POST", "/__admin/clock/advance", b'{"seconds": ' + number + b"}",
        content_type="application/json"))
    status = parse(data)[0]
    if status != 200:
        assert_cybrid_error(data, 400, "invalid_parameter")
    healthy(hostile)


def test_nul_in_a_client_secret_does_not_authenticate(hostile):
    c = hostile.client()
    r = c.post("/oauth/token", json.dumps({
        "grant_type": "client_credentials",
        "client_id": "mock-bank-client-id",
        "client_secret": "mock-bank-client-secret\u0000junk"}),
        headers={"Content-Type": "application/json"})
    assert r.status == 400 and r.json()["error"] == "invalid_request"
    c.close()


# ---- paths ----------------------------------------------------------------

ROUTES = ["/api/banks", "/api/banks/%s" % BANK_GUID, "/api/customers",
          "/api/customer_tokens", "/api/subscriptions",
          "/api/subscription_events", "/api/subscription_deliveries",
          "/api/organizations/0f1e2d3c4b5a69788796a5b4c3d2e1f0",
          "/oauth/token", "/api/jwks", "/__admin/health",
          "/__admin/requests", "/__admin/scenario", "/__admin/clock"]


def tricks(path):
    yield path + "/%2e%2e/%2e%2e/__admin/health"
    yield path.replace("/", "/%2e%2e/", 1)
    yield path + "%00"
    yield path + "%2f"
    yield path.replace("/", "%2f")
    yield path + "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd"
    yield path + "%"
    yield path + "%c0%ae%c0%ae/"


def test_percent_encoded_path_tricks_never_reach_another_route(hostile):
    ids = []
    for route in ROUTES:
        for path in tricks(route):
            for method in ("GET", "POST"):
                data, _ = exchange(hostile, request(
                    method, path, b"{}" if method == "POST" else None,
                    content_type="application/json"))
                status, headers, body = parse(data)
                assert status in (400, 401, 403, 404, 405), (path, data)
                assert body["message_code"] in (
                    "invalid_parameter", "not_found", "method_not_allowed",
                    "unauthorized", "forbidden", "invalid_request"), body
                if "__admin" not in urllib.parse.unquote(path):
                    ids.append(headers["x-request-id"])
    healthy(hostile)
    assert_journaled(hostile, ids)


@pytest.mark.parametrize("extends", [
    "%2e%2e/%2e%2e/etc/passwd", "../../../../etc/passwd", "/etc/passwd",
    "..%2fdefault", "default%00", "scenarios/../../etc/hostname",
    "\"default\\0\"", "\"default\\x00x\""])
def test_scenario_extends_cannot_leave_the_scenario_folders(hostile, extends):
    c = hostile.client()
    r = c.put("/__admin/scenario",
              "name: tricky\nextends: %s\n" % extends,
              headers={"Content-Type": "application/yaml"})
    assert r.status in (400, 422), r.body
    assert r.json()["error_message"]
    c.close()
    healthy(hostile)


# ---- connections ----------------------------------------------------------

def test_a_thousand_connections_opening_and_closing(hostile):
    parts = urllib.parse.urlsplit(hostile.url)
    errors = []

    def churn(n):
        for i in range(n):
            try:
                s = socket.create_connection((parts.hostname, parts.port),
                                             timeout=10)
                if i % 5 == 0:  # some complete a request, the rest drop
                    ctx = ssl.create_default_context(cafile=hostile.ca)
                    t = ctx.wrap_socket(s, server_hostname=parts.hostname)
                    t.sendall(request("GET", "/__admin/health", None))
                    t.recv(4096)
                    t.close()
                else:
                    s.close()
            except (OSError, ssl.SSLError) as e:
                errors.append(repr(e))

    threads = [threading.Thread(target=churn, args=(50,)) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert len(errors) < 50, errors[:5]
    healthy(hostile)


# ---- webhook receivers that misbehave -------------------------------------

class BadReceiver:
    """A TLS server that reads a request then misbehaves: 'big' answers
    10 MB, 'reset' resets the connection, 'hang' never answers."""

    def __init__(self, folder, mode):
        paths = make_certificates(folder)
        self.ca_file = paths["ca.pem"]
        self.mode = mode
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(paths["server.pem"], paths["server-key.pem"])
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = "https://127.0.0.1:%d/hook" % self.sock.getsockname()[1]
        self.stop_event = threading.Event()
        self.hits = 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        self.sock.settimeout(0.2)
        while not self.stop_event.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,),
                             daemon=True).start()

    def handle(self, conn):
        try:
            conn.settimeout(10)
            t = self.ctx.wrap_socket(conn, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = t.recv(65536)
                if not chunk:
                    return
                data += chunk
            self.hits += 1
            if self.mode == "big":
                t.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10485760\r\n"
                          b"\r\n")
                for _ in range(160):
                    t.sendall(b"x" * 65536)
            elif self.mode == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                b"\x01\x00\x00\x00\x00\x00\x00\x00")
            elif self.mode == "hang":
                self.stop_event.wait(30)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def stop(self):
        self.stop_event.set()
        self.sock.close()
        self.thread.join(timeout=5)


@pytest.mark.parametrize("mode", ["big", "reset", "hang"])
def test_misbehaving_webhook_receivers_are_recorded_and_bounded(
        start_mock, tmp_path, tokens_raw, mode):
    folder = tmp_path / "receiver"
    folder.mkdir()
    rcv = BadReceiver(str(folder), mode)
    scenario = tmp_path / "hooks.yaml"
    scenario.write_text(
        "name: bad-receivers\nextends: default\nwebhooks:\n"
        "  retry: {attempts: 2, first_delay: 1h, factor: 2}\n"
        "  timeout: 2s\n  ca_file: %s\n" % rcv.ca_file)
    try:
        mock = start_mock("--scenario", str(scenario))
        c = mock.client()
        tok = tokens_raw(mock)
        r = c.post("/api/subscriptions", {
            "name": "bad", "type": "webhook", "environment": "sandbox",
            "url": rcv.url}, token=tok)
        assert r.status == 201, r.body
        r = c.post("/__admin/events", {"event_type": "trade.completed"})
        assert r.status == 201, r.body
        event = r.json()["guid"]
        deadline = time.monotonic() + 20
        attempts = []
        while time.monotonic() < deadline and not attempts:
            r = c.get("/__admin/webhooks?event_guid=" + event)
            assert r.status == 200
            attempts = r.json()["attempts"]
            time.sleep(0.05)
        assert len(attempts) == 1, attempts
        a = attempts[0]
        if mode == "big":
            # A 200 is a 200, however long the body it comes with.
            assert a["status"] == 200 or a["error"], a
        else:
            assert a["status"] is None and a["error"], a
        healthy(mock)
        c.close()
    finally:
        rcv.stop()


@pytest.fixture
def tokens_raw():
    """Fetches an organization token with subscription scopes from a mock."""
    def get(mock):
        c = mock.client()
        r = c.post("/oauth/token", {
            "grant_type": "client_credentials",
            "client_id": "mock-org-client-id",
            "client_secret": "mock-org-client-secret",
            "scope": "subscriptions:read subscriptions:write "
                     "subscriptions:execute"})
        c.close()
        assert r.status == 200, r.body
        return r.json()["access_token"]
    return get
