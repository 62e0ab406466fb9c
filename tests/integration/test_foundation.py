"""The listener, the command line, HTTP errors and logging, end to end."""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest

from conftest import BINARY, Mock


def test_health_answers_ok_with_version_over_verified_tls(client):
    r = client.get("/__admin/health")
    assert r.status == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["version"]
    assert body["uptime_seconds"] >= 0


def test_every_answer_carries_hsts_and_request_id(client):
    for path in ("/__admin/health", "/does/not/exist"):
        r = client.get(path)
        assert r.header("Strict-Transport-Security").startswith("max-age=")
        assert len(r.header("X-Request-Id")) == 32


def test_unknown_path_is_404_in_cybrid_error_format(client):
    r = client.get("/api/nothing-here")
    assert r.status == 404
    assert r.json() == {"status": 404, "message_code": "not_found",
                        "error_message": "no such path: /api/nothing-here"}


def test_wrong_method_is_405_with_allow(client):
    r = client.delete("/__admin/health")
    assert r.status == 405
    assert r.header("Allow") == "GET"
    assert r.json()["message_code"] == "method_not_allowed"


# Python warns that TLS 1.0 and 1.1 are deprecated: offering them is the
# point of this test.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_1_1_handshake_is_refused(mock):
    host, port = mock.url[len("https://"):].rsplit(":", 1)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(mock.ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    try:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    except ssl.SSLError:
        pass
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        with pytest.raises(ssl.SSLError):
            with ctx.wrap_socket(raw, server_hostname="localhost"):
                pass


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl")
def test_openssl_s_client_tls1_1_fails_and_tls1_2_succeeds(mock):
    addr = mock.url[len("https://"):]
    old = subprocess.run(
        ["openssl", "s_client", "-connect", addr, "-tls1_1",
         "-CAfile", mock.ca], stdin=subprocess.DEVNULL,
        capture_output=True, timeout=10)
    assert old.returncode != 0
    new = subprocess.run(
        ["openssl", "s_client", "-connect", addr, "-tls1_2",
         "-CAfile", mock.ca, "-verify_return_error"],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    assert new.returncode == 0
    assert b"Verify return code: 0 (ok)" in new.stdout


def test_plain_http_gets_no_answer(mock):
    host, port = mock.url[len("https://"):].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(5)
        try:
            data = s.recv(100)
        except (ConnectionResetError, socket.timeout):
            data = b""
    assert not data.startswith(b"HTTP/1.1 200")


def test_certificate_is_reused_on_next_start(start_mock, tmp_path):
    first = start_mock(tls_dir=tmp_path / "shared")
    with open(first.ca, "rb") as f:
        ca1 = f.read()
    first.stop()
    second = start_mock(tls_dir=tmp_path / "shared")
    with open(second.ca, "rb") as f:
        assert f.read() == ca1
    assert second.client().get("/__admin/health").status == 200


def test_key_files_are_private(mock):
    for name in ("ca-key.pem", "server-key.pem"):
        mode = os.stat(os.path.join(mock.tls_dir, name)).st_mode & 0o777
        assert mode == 0o600


def test_given_certificate_and_key_are_served(start_mock, tmp_path):
    made = start_mock(tls_dir=tmp_path / "made")
    made.stop()
    d = str(tmp_path / "made")
    given = start_mock("--cert", d + "/server.pem",
                       "--key", d + "/server-key.pem",
                       tls_dir=tmp_path / "other")
    assert not os.path.exists(str(tmp_path / "other" / "ca.pem"))
    c = given.client(ca=d + "/ca.pem")
    assert c.get("/__admin/health").status == 200


def test_environment_sets_listen(tmp_path):
    m = Mock(tmp_path / "env", env={"CYBRID_MOCK_LISTEN": "127.0.0.1:0"})
    m.args = ["--tls-dir", m.tls_dir]
    m.start()
    try:
        assert m.url.startswith("https://127.0.0.1:")
        assert not m.url.endswith(":8443")
    finally:
        m.stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_within_a_second_with_exit_0(start_mock, sig):
    m = start_mock()
    c = m.client()
    assert c.get("/__admin/health").status == 200  # a kept-alive connection
    began = time.monotonic()
    m.signal(sig)
    code = m.proc.wait(timeout=5)
    assert code == 0
    assert time.monotonic() - began < 1.0
    c.close()


@pytest.mark.parametrize("args,needle", [
    (["--bogus"], "unknown option"),
    (["--listen", "nonsense"], "HOST:PORT"),
    (["--listen", "127.0.0.1:99999"], "0..65535"),
    (["--log-level", "chatty"], "--log-level"),
    (["--cert", "/tmp/x.pem"], "together"),
])
def test_bad_flag_exits_2_with_one_line(args, needle, tmp_path):
    p = subprocess.run([BINARY, "--tls-dir", str(tmp_path)] + args,
                       capture_output=True, timeout=10)
    assert p.returncode == 2 or (needle in ("HOST:PORT", "0..65535")
                                 and p.returncode != 0)
    lines = p.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], p.stderr


def test_help_and_version(tmp_path):
    h = subprocess.run([BINARY, "--help"], capture_output=True, timeout=10)
    assert h.returncode == 0
    for flag in (b"--listen", b"--tls-dir", b"--cert", b"--key",
                 b"--log-level", b"--help", b"--version"):
        assert flag in h.stdout
    v = subprocess.run([BINARY, "--version"], capture_output=True, timeout=10)
    assert v.returncode == 0 and v.stdout.startswith(b"cybrid-mock ")


def test_port_in_use_is_a_clear_failure(start_mock, tmp_path):
    first = start_mock()
    addr = first.url[len("https://"):]
    p = subprocess.run([BINARY, "--listen", addr, "--tls-dir",
                        str(tmp_path / "x")], capture_output=True, timeout=10)
    assert p.returncode == 1
    assert b"cannot listen on " + addr.encode() in p.stderr


def test_body_over_the_cap_is_413(start_mock):
    m = start_mock("--max-body", "1024")
    c = m.client()
    r = c.post("/__admin/clock/advance", body="{" + " " * 2000 + "}",
               headers={"Content-Type": "application/json"})
    assert r.status == 413
    assert r.json()["message_code"] == "payload_too_large"
    c2 = m.client()
    assert c2.get("/__admin/health").status == 200


def test_malformed_json_is_400_invalid_json(client):
    r = client.post("/__admin/clock/advance", body='{"seconds": ',
                    headers={"Content-Type": "application/json"})
    assert r.status == 400
    assert r.json()["message_code"] == "invalid_json"


def test_duplicate_json_keys_are_refused(client):
    r = client.post("/__admin/clock/advance",
                    body='{"seconds": 1, "seconds": 2}',
                    headers={"Content-Type": "application/json"})
    assert r.status == 400
    assert r.json()["message_code"] == "invalid_json"


def test_wrong_content_type_is_415(client):
    r = client.post("/__admin/clock/advance", body='{"seconds": 1}',
                    headers={"Content-Type": "text/plain"})
    assert r.status == 415


def test_percent_encoded_nul_in_path_is_400(client):
    r = client.get("/__admin/health%00x")
    assert r.status == 400
    assert r.json()["message_code"] == "invalid_parameter"


def test_access_log_never_prints_secrets_or_queries(start_mock):
    m = start_mock()
    c = m.client()
    c.get("/__admin/health?client_secret=topsecret1",
          headers={"Authorization": "Bearer eyJsecret.token.value"})
    assert c.get("/api/x%0d%0aforged=1").status == 400
    m.stop()
    err = m.stderr()
    assert "topsecret1" not in err
    assert "eyJsecret" not in err
    assert "path=/__admin/health " in err
    assert not any(line.startswith("forged") for line in err.splitlines())


def test_json_log_lines_parse(start_mock):
    m = start_mock("--log-format", "json")
    m.client().get("/__admin/health")
    m.stop()
    lines = [json.loads(x) for x in m.stderr().splitlines() if x]
    access = [x for x in lines if x.get("event") == "request"]
    assert access and access[0]["status"] == 200
    assert access[0]["path"] == "/__admin/health"


def test_probe_reports_healthy_mock_and_exit_0(mock):
    p = subprocess.run([BINARY, "--probe", mock.url + "/__admin/health",
                        "--tls-dir", mock.tls_dir],
                       capture_output=True, timeout=10)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().startswith("healthy ")


def test_probe_self_uses_the_listen_address(mock):
    addr = mock.url[len("https://"):]
    p = subprocess.run([BINARY, "--probe", "self", "--listen", addr,
                        "--tls-dir", mock.tls_dir],
                       capture_output=True, timeout=10)
    assert p.returncode == 0, p.stderr


def test_probe_fails_on_untrusted_certificate_and_closed_port(mock, tmp_path):
    untrusted = subprocess.run(
        [BINARY, "--probe", mock.url + "/__admin/health",
         "--tls-dir", str(tmp_path / "empty")],
        capture_output=True, timeout=10)
    assert untrusted.returncode == 1
    assert b"unhealthy" in untrusted.stderr
    closed = subprocess.run(
        [BINARY, "--probe", "https://127.0.0.1:1/__admin/health",
         "--tls-dir", mock.tls_dir], capture_output=True, timeout=10)
    assert closed.returncode == 1


def test_fresh_start_makes_a_signing_key_and_the_first_token_waits(
        start_mock):
    m = start_mock(fresh_key=True)
    c = m.client()
    r = c.post("/oauth/token", {"grant_type": "client_credentials",
                                "client_id": "mock-bank-client-id",
                                "client_secret": "mock-bank-client-secret"})
    assert r.status == 200
    key = os.path.join(m.tls_dir, "signing-key.pem")
    assert os.stat(key).st_mode & 0o777 == 0o600
    jwks = c.get("/oauth/discovery/keys").json()
    assert len(jwks["keys"]) == 1 and jwks["keys"][0]["alg"] == "RS512"


def test_stop_during_signing_key_generation_is_clean(start_mock):
    m = start_mock(fresh_key=True)
    began = time.monotonic()
    assert m.stop() == 0
    assert time.monotonic() - began < 2.0


# ---- connections: one reply per write, civetweb's keep-alive rule ----


def _tls_socket(mock):
    host, port = mock.url.split("//")[1].rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=mock.ca)
    raw = socket.create_connection((host, int(port)), timeout=10)
    return ctx.wrap_socket(raw, server_hostname=host)


def _read_reply(s):
    """One whole reply (head and Content-Length body), or what came
    before the server closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
              if line.lower().startswith(b"content-length:")]
    while len(body) < length[0]:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def _closed_by_server(s):
    try:
        return s.recv(1) == b""
    except (ssl.SSLError, OSError):
        return True


def test_http11_replies_keep_the_connection_for_the_next_request(mock):
    s = _tls_socket(mock)
    for _ in range(3):
        s.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: mock\r\n\r\n")
        reply = _read_reply(s)
        head = reply.split(b"\r\n\r\n")[0].split(b"\r\n")
        assert head[0] == b"HTTP/1.1 200 OK"
        assert b"Connection: keep-alive" in head
        assert sum(h.startswith(b"Date: ") for h in head) == 1
        assert sum(h.lower().startswith(b"content-length:")
                   for h in head) == 1
        assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["status"] == "ok"
    s.close()


def test_http10_request_is_answered_in_http10_and_closed(mock):
    s = _tls_socket(mock)
    s.sendall(b"GET /__admin/health HTTP/1.0\r\nHost: mock\r\n\r\n")
    reply = _read_reply(s)
    assert reply.startswith(b"HTTP/1.0 200 OK\r\n")
    assert b"\r\nConnection: close\r\n" in reply
    assert _closed_by_server(s)
    s.close()


def test_connection_close_from_the_client_is_honoured(mock):
    s = _tls_socket(mock)
    s.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: mock\r\n"
              b"Connection: close\r\n\r\n")
    reply = _read_reply(s)
    assert reply.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nConnection: close\r\n" in reply
    assert _closed_by_server(s)
    s.close()


def test_head_gets_the_headers_of_get_and_no_body(mock):
    s = _tls_socket(mock)
    s.sendall(b"HEAD /does/not/exist HTTP/1.1\r\nHost: mock\r\n\r\n")
    data = b""
    s.settimeout(1.0)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404 Not Found")
    assert b"\r\nContent-Length: " in head
    assert body == b""
    s.close()
