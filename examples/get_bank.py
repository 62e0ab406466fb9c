"""Example: Cybrid's Python bank SDK against cybrid-mock.

    MOCK_URL=https://127.0.0.1:8443 MOCK_CA=$TLS_DIR/ca.pem \\
        python3 examples/get_bank.py

(pip install cybrid-api-bank-python first; tests/requirements.txt pins it.)
"""
import json
import os
import ssl
import urllib.request

import cybrid_api_bank
from cybrid_api_bank.api.banks_bank_api import BanksBankApi

BASE = os.environ.get("MOCK_URL", "https://127.0.0.1:8443")
CA = os.environ["MOCK_CA"]


def bank_token():
    """A bank token from /oauth/token (no SDK wraps it)."""
    body = json.dumps({"grant_type": "client_credentials",
                       "client_id": "mock-bank-client-id",
                       "client_secret": "mock-bank-client-secret",
                       "scope": "banks:read"}).encode()
    req = urllib.request.Request(BASE + "/oauth/token", data=body,
                                 headers={"Content-Type": "application/json"})
    ctx = ssl.create_default_context(cafile=CA)
    with urllib.request.urlopen(req, context=ctx) as r:
        return json.load(r)["access_token"]


def main():
    conf = cybrid_api_bank.Configuration(host=BASE)
    conf.access_token = bank_token()  # the SDK adds "Bearer "
    conf.ssl_ca_cert = CA
    with cybrid_api_bank.ApiClient(conf) as client:
        bank = BanksBankApi(client).get_bank(
            "b0a1c2d3e4f5061728394a5b6c7d8e9f")
    print(bank.guid, bank.name, bank.type)


if __name__ == "__main__":
    main()
