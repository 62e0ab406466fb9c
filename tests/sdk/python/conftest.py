"""Fixtures of the Python SDK suite: the integration suite's mock
launcher (real binary, port 0, stopped by pid) and its HTTPS webhook
receiver, loaded from tests/integration so both suites share them."""
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.join(os.path.dirname(os.path.dirname(HERE)),
                           "integration")
sys.path.insert(0, INTEGRATION)

_spec = importlib.util.spec_from_file_location(
    "integration_conftest", os.path.join(INTEGRATION, "conftest.py"))
_harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_harness)

start_mock = _harness.start_mock
mock = _harness.mock
client = _harness.client
