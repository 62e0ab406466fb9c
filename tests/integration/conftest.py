"""Fixtures that start the real cybrid-mock binary for each test.

Each server listens on 127.0.0.1 port 0 with its own TLS directory, is
reached over HTTPS with certificate verification against the CA it
generated, and is stopped by its process id with SIGTERM. A server that
exits non-zero or prints a sanitizer report fails the test that ran it.

CYBRID_MOCK_WRAPPER, when set, is a command the binary runs under, e.g.
"valgrind --leak-check=full --error-exitcode=99" (scripts/test runs part
of the suite so); start and stop then wait ten times longer.
"""
import http.client
import json
import os
import shlex
import signal
import ssl
import subprocess
import time
import urllib.parse

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BINARY = os.environ.get("CYBRID_MOCK_BIN",
                        os.path.join(ROOT, "build", "cybrid-mock"))
WRAPPER = shlex.split(os.environ.get("CYBRID_MOCK_WRAPPER", ""))
SLOW = 10 if WRAPPER else 1


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name.lower())


class Client:
    """A keep-alive HTTPS client that trusts only the mock's CA."""

    def __init__(self, url, ca_file):
        parts = urllib.parse.urlsplit(url)
        self.host = parts.hostname
        self.port = parts.port
        self.context = ssl.create_default_context(cafile=ca_file)
        self.conn = None

    def _connect(self):
        if self.conn is None:
            self.conn = http.client.HTTPSConnection(
                self.host, self.port, context=self.context,
                timeout=10 * SLOW)
        return self.conn

    def request(self, method, path, body=None, headers=None, token=None):
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode()
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        conn = self._connect()
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.close()
            raise
        data = resp.read()
        out = Response(resp.status,
                       {k.lower(): v for k, v in resp.getheaders()}, data)
        if resp.will_close:
            self.close()
        return out

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


_SIGNING_KEY = None


def shared_signing_key():
    """One RSA-2048 signing key (PEM) for every mock of this test run.

    A mock whose TLS directory has no signing-key.pem makes one, which
    takes from a tenth of a second to seconds; tests give each new
    directory this key instead, so starts are fast and a scenario's
    virtual timeline is not shifted by key generation. Tests of the key
    itself pass fresh_key=True.
    """
    global _SIGNING_KEY
    if _SIGNING_KEY is None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _SIGNING_KEY = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
    return _SIGNING_KEY


class Mock:
    """One running cybrid-mock process."""

    def __init__(self, tls_dir, args=(), env=None):
        self.tls_dir = str(tls_dir)
        self.args = ["--listen", "127.0.0.1:0", "--tls-dir", self.tls_dir]
        self.args += list(args)
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.stderr_path = os.path.join(self.tls_dir, "mock.stderr")
        self.proc = None
        self.url = None

    def start(self, timeout=10.0, fresh_key=False):
        timeout *= SLOW
        os.makedirs(self.tls_dir, exist_ok=True)
        key = os.path.join(self.tls_dir, "signing-key.pem")
        if not fresh_key and not os.path.exists(key):
            fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(shared_signing_key())
        self.stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            WRAPPER + [BINARY] + self.args, stdout=subprocess.PIPE,
            stderr=self.stderr_file, env=self.env)
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith(b"ready "):
                break
            if not line and self.proc.poll() is not None:
                break
        if not line.startswith(b"ready "):
            self.stop(check=False)
            raise RuntimeError("mock did not start: " + self.stderr())
        self.url = line.split()[1].decode()
        self.ca = os.path.join(self.tls_dir, "ca.pem")
        return self

    def client(self, ca=None):
        return Client(self.url, ca or self.ca)

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, check=True, timeout=5.0):
        """Stops with SIGTERM by pid; returns the exit code."""
        timeout *= SLOW
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
            if check:
                raise AssertionError("mock did not stop within %ss" % timeout)
        self.proc.stdout.close()
        self.stderr_file.close()
        self.proc = None
        if check:
            err = self.stderr()
            assert "runtime error" not in err, err
            assert "AddressSanitizer" not in err, err
            assert "LeakSanitizer" not in err, err
            assert code == 0, "mock exited %s:\n%s" % (code, err)
        return code


@pytest.fixture
def start_mock(tmp_path):
    """Starts mocks with extra arguments; stops them all after the test."""
    started = []

    def start(*args, env=None, tls_dir=None, fresh_key=False):
        m = Mock(tls_dir or tmp_path / ("tls%d" % len(started)), args, env)
        started.append(m)
        return m.start(fresh_key=fresh_key)

    yield start
    for m in started:
        m.stop()


@pytest.fixture
def mock(start_mock):
    """A mock on the default scenario."""
    return start_mock()


@pytest.fixture
def client(mock):
    c = mock.client()
    yield c
    c.close()


# ---- identity: the default fixtures' credentials and a token helper ----

ORG_GUID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
BANK_GUID = "b0a1c2d3e4f5061728394a5b6c7d8e9f"
CUSTOMER_GUID = "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
BANK_CLIENT = ("mock-bank-client-id", "mock-bank-client-secret")
ORG_CLIENT = ("mock-org-client-id", "mock-org-client-secret")


def fetch_token(client, credentials, scope=None):
    """POSTs client_credentials as JSON; returns the 200 answer's body."""
    body = {"grant_type": "client_credentials",
            "client_id": credentials[0], "client_secret": credentials[1]}
    if scope is not None:
        body["scope"] = scope
    r = client.post("/oauth/token", body)
    assert r.status == 200, r.body
    return r.json()


class Tokens:
    """Access tokens of the default fixtures, fetched once per test.

    tokens.bank and tokens.org hold every scope of their application;
    bank_with(scope) and org_with(scope) fetch narrower ones, and
    customer(scopes) makes a customer token with the bank token.
    """

    def __init__(self, client):
        self.client = client
        self._cache = {}

    def _get(self, credentials, scope):
        key = (credentials, scope)
        if key not in self._cache:
            self._cache[key] = fetch_token(
                self.client, credentials, scope)["access_token"]
        return self._cache[key]

    @property
    def bank(self):
        return self._get(BANK_CLIENT, None)

    @property
    def org(self):
        return self._get(ORG_CLIENT, None)

    def bank_with(self, scope):
        return self._get(BANK_CLIENT, scope)

    def org_with(self, scope):
        return self._get(ORG_CLIENT, scope)

    def customer(self, scopes=("customers:read",), customer=CUSTOMER_GUID):
        r = self.client.post("/api/customer_tokens",
                             {"customer_guid": customer,
                              "scopes": list(scopes)}, token=self.bank)
        assert r.status == 201, r.body
        return r.json()["access_token"]


@pytest.fixture
def tokens(client):
    """Tokens of the default fixtures for the `client` mock."""
    return Tokens(client)
