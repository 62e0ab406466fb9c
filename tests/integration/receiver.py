"""A real HTTPS webhook receiver for the tests.

It makes its own CA and a server certificate for 127.0.0.1 and localhost
with the `cryptography` package, serves HTTPS on a free port in a thread,
records every request (headers and exact body bytes) and checks each
X-Cybrid-Signature with its own HMAC-SHA256 and hmac.compare_digest.
What it answers is scripted: a list of statuses used one per request
(then the default), where "hang" means never answering until the
receiver stops. It can also refuse stale timestamps (reject_stale: more
than five minutes from its own clock) and wait `delay` seconds before
answering (a slow receiver).
"""
import datetime
import hashlib
import hmac
import http.server
import ipaddress
import os
import ssl
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_certificates(folder):
    """Writes ca.pem, server.pem and server-key.pem; returns their paths."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder()
          .subject_name(_name("receiver test CA"))
          .issuer_name(_name("receiver test CA"))
          .public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0),
                         critical=True)
          .add_extension(x509.KeyUsage(
              digital_signature=True, key_cert_sign=True, crl_sign=True,
              content_commitment=False, key_encipherment=False,
              data_encipherment=False, key_agreement=False,
              encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(_name("127.0.0.1"))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.ExtendedKeyUsage(
                [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {name: os.path.join(folder, name)
             for name in ("ca.pem", "server.pem", "server-key.pem")}
    with open(paths["ca.pem"], "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths["server.pem"], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths["server-key.pem"], "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths


class Received:
    """One request as the receiver saw it."""

    def __init__(self, path, headers, body, key):
        self.path = path
        self.headers = headers
        self.body = body
        self.signature = headers.get("x-cybrid-signature")
        self.event_id = headers.get("x-cybrid-event-id")
        self.timestamp = headers.get("x-cybrid-timestamp")
        self.valid = False
        if key is not None and self.signature is not None:
            want = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
            self.valid = hmac.compare_digest(want, self.signature)

    def fresh(self, window=300):
        """True when X-Cybrid-Timestamp is within window seconds of now."""
        try:
            return abs(int(self.timestamp) - time.time()) <= window
        except (TypeError, ValueError):
            return False


class Receiver:
    """An HTTPS server in a thread; see the module's note."""

    def __init__(self, folder):
        self.paths = make_certificates(folder)
        self.ca_file = self.paths["ca.pem"]
        self.key = None  # the signing key to verify with
        self.script = []
        self.default = 200
        self.reject_invalid = False  # 401 for a bad or missing signature
        self.reject_stale = False  # 401 for a timestamp 5 minutes off
        self.delay = 0.0  # seconds to wait before answering
        self.received = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                headers = {k.lower(): v for k, v in self.headers.items()}
                got = Received(self.path, headers, body, receiver.key)
                with receiver.lock:
                    receiver.received.append(got)
                    status = (receiver.script.pop(0) if receiver.script
                              else receiver.default)
                if status == "hang":
                    receiver.release.wait()
                    self.close_connection = True
                    return
                if receiver.reject_invalid and not got.valid:
                    status = 401
                if receiver.reject_stale and not got.fresh():
                    status = 401
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, fmt, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.server.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.paths["server.pem"],
                            self.paths["server-key.pem"])
        self.server.socket = ctx.wrap_socket(self.server.socket,
                                             server_side=True)
        self.port = self.server.server_address[1]
        self.url = "https://127.0.0.1:%d/hook" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def requests(self):
        with self.lock:
            return list(self.received)

    def wait_for(self, count, limit=15.0):
        """Waits (bounded) until count requests arrived; returns them."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            got = self.requests()
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError("receiver got %d of %d requests"
                             % (len(self.requests()), count))

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
