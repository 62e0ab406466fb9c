"""Scenarios end to end: --check, --scenario, the admin scenario routes,
POST /__admin/reset and SIGHUP reloads."""
import glob
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import BINARY, ROOT

CUSTOM = """\
name: custom
description: Short bank tokens and one extra bank.
extends: default
tokens:
  bank_ttl: 90s
fixtures:
  banks:
    - guid: b0a1c2d3e4f5061728394a5b6c7d8e9f
      organization_guid: 0f1e2d3c4b5a69788796a5b4c3d2e1f0
      name: Mock Sandbox Bank
    - guid: 1234567890abcdef1234567890abcdef
      organization_guid: 0f1e2d3c4b5a69788796a5b4c3d2e1f0
      name: Second Bank
      cors_allowed_origins: ["https://app.example.com"]
"""

YAML = {"Content-Type": "application/yaml"}


def check(path, cwd=None):
    return subprocess.run([BINARY, "--check", str(path)], cwd=cwd,
                          capture_output=True, text=True, timeout=30)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def wait_for(fn, timeout=10.0):
    """Polls fn until it returns a true value; returns the last value."""
    deadline = time.monotonic() + timeout
    value = fn()
    while not value and time.monotonic() < deadline:
        time.sleep(0.05)
        value = fn()
    return value


def test_check_prints_ok_and_exits_0_for_a_good_file(tmp_path):
    path = write(tmp_path, "custom.yaml", CUSTOM)
    r = check(path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "%s: ok\n" % path


def test_check_prints_file_line_column_reason_and_exits_1(tmp_path):
    path = write(tmp_path, "bad.yaml", "name: x\ntokens:\n  bank_tll: 60s\n")
    r = check(path)
    assert r.returncode == 1
    assert r.stderr == '%s:3:3: unknown key "bank_tll"\n' % path
    assert r.stdout == ""


def test_check_refuses_extends_that_climbs_out(tmp_path):
    (tmp_path / "inner").mkdir()
    write(tmp_path, "secret.yaml", "name: secret\n")
    path = write(tmp_path / "inner", "a.yaml", "extends: ../secret.yaml\n")
    r = check(path)
    assert r.returncode == 1
    assert r.stderr.startswith("%s:1:10: extends: " % path)
    assert "climbs out of the scenario folder" in r.stderr


def test_check_of_missing_file_exits_1(tmp_path):
    r = check(tmp_path / "nope.yaml")
    assert r.returncode == 1
    assert "nope.yaml: cannot open" in r.stderr


def test_every_shipped_yaml_file_checks_ok():
    files = sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.yaml")) +
                   glob.glob(os.path.join(ROOT, "fixtures", "*.yaml")))
    assert files
    for path in files:
        r = check(path)
        assert r.returncode == 0, r.stderr


def test_builtin_default_runs_from_any_directory(tmp_path):
    r = check("default", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "default: ok\n"


def test_bad_scenario_flag_stops_the_start(tmp_path):
    path = write(tmp_path, "bad.yaml", "tokens: {bank_ttl: soon}\n")
    r = subprocess.run([BINARY, "--listen", "127.0.0.1:0", "--tls-dir",
                        str(tmp_path / "tls"), "--scenario", str(path)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert '%s:1:20: bad duration "soon"' % path in r.stderr
    assert "ready" not in r.stdout


def test_default_scenario_is_described_without_secrets(client):
    r = client.get("/__admin/scenario")
    assert r.status == 200
    body = r.json()
    assert body["name"] == "default"
    assert body["file"] is None
    assert body["tokens"]["bank_ttl_seconds"] == 28800
    assert body["rate_limits"]["general"] == {
        "limit": 100, "window_seconds": 300, "status": 429,
        "retry_after": True}
    assert body["webhooks"] == {
        "retry": {"attempts": 5, "first_delay_seconds": 1, "factor": 2},
        "timeout_seconds": 10, "ca_file": None, "allow_http": False,
        "verify_tls": True, "queue_max": 1024}
    apps = body["fixtures"]["applications"]
    assert [a["client_id"] for a in apps] == ["mock-bank-client-id",
                                               "mock-org-client-id"]
    assert "secret" not in r.body.decode().replace("mock-bank-client-id", "")


def test_scenario_flag_sets_lifetime_and_fixtures(start_mock, tmp_path):
    path = write(tmp_path, "custom.yaml", CUSTOM)
    mock = start_mock("--scenario", str(path))
    c = mock.client()
    body = c.get("/__admin/scenario").json()
    c.close()
    assert body["name"] == "custom"
    assert body["file"] == str(path)
    assert body["tokens"]["bank_ttl_seconds"] == 90
    assert body["tokens"]["customer_ttl_seconds"] == 28800
    banks = body["fixtures"]["banks"]
    assert [b["name"] for b in banks] == ["Mock Sandbox Bank", "Second Bank"]
    assert banks[1]["cors_allowed_origins"] == ["https://app.example.com"]


def test_scenario_environment_variable_is_read(start_mock, tmp_path):
    path = write(tmp_path, "custom.yaml", CUSTOM)
    mock = start_mock(env={"CYBRID_MOCK_SCENARIO": str(path)})
    c = mock.client()
    assert c.get("/__admin/scenario").json()["name"] == "custom"
    c.close()


def test_put_refused_scenario_answers_400_and_keeps_the_old(client):
    r = client.put("/__admin/scenario", "name: x\nrate_limits:\n"
                   "  general: {limit: 5, status: 500}\n", headers=YAML)
    assert r.status == 400
    body = r.json()
    assert body["message_code"] == "invalid_scenario"
    assert body["status"] == 400
    assert body["line"] == 3
    assert body["column"] == 31
    assert body["reason"] == "bad status 500: want 429 or 403"
    assert body["error_message"] == (
        "request:3:31: bad status 500: want 429 or 403")
    assert client.get("/__admin/scenario").json()["name"] == "default"


def test_put_malformed_yaml_is_refused_with_its_place(client):
    r = client.put("/__admin/scenario", "name: [x\n", headers=YAML)
    assert r.status == 400
    body = r.json()
    assert (body["line"], body["column"]) == (2, 1)
    assert body["reason"].startswith("YAML syntax:")


def test_put_accepted_scenario_replaces_the_running_one(client):
    r = client.put("/__admin/scenario", "name: swapped\nextends: default\n"
                   "tokens: {customer_ttl: 30s}\n"
                   "webhooks: {allow_http: true, retry: {attempts: 2}}\n",
                   headers={"Content-Type": "text/yaml; charset=utf-8"})
    assert r.status == 200
    assert r.json()["name"] == "swapped"
    body = client.get("/__admin/scenario").json()
    assert body["name"] == "swapped"
    assert body["file"] is None
    assert body["tokens"]["customer_ttl_seconds"] == 30
    assert body["webhooks"]["allow_http"] is True
    assert body["webhooks"]["retry"] == {
        "attempts": 2, "first_delay_seconds": 1, "factor": 2}
    assert len(body["fixtures"]["banks"]) == 1


def test_put_scenario_needs_a_yaml_content_type(client):
    r = client.put("/__admin/scenario", "name: x\n",
                   headers={"Content-Type": "application/json"})
    assert r.status == 415
    assert r.json()["message_code"] == "invalid_content_type"
    assert client.get("/__admin/scenario").json()["name"] == "default"


def test_put_extends_resolves_in_the_scenario_folder(start_mock, tmp_path):
    path = write(tmp_path, "custom.yaml", CUSTOM)
    mock = start_mock("--scenario", str(path))
    c = mock.client()
    r = c.put("/__admin/scenario", "extends: custom\nname: child\n",
              headers={"Content-Type": "application/x-yaml"})
    assert r.status == 200, r.body
    assert r.json()["tokens"]["bank_ttl_seconds"] == 90
    r = c.put("/__admin/scenario", "extends: ../escape\n", headers=YAML)
    assert r.status == 400
    assert "climbs out" in r.json()["reason"]
    c.close()


def test_reset_returns_clock_to_the_scenario_start(start_mock, tmp_path):
    path = write(tmp_path, "clock.yaml",
                 "extends: default\nclock: {start: 2030-01-01T00:00:00Z}\n")
    mock = start_mock("--scenario", str(path))
    c = mock.client()
    assert c.get("/__admin/clock").json()["iso8601"].startswith(
        "2030-01-01T00:0")
    c.post("/__admin/clock/advance", {"seconds": 86400})
    assert c.get("/__admin/clock").json()["iso8601"].startswith("2030-01-02")
    r = c.post("/__admin/reset")
    assert r.status == 200
    body = r.json()
    assert body["status"] == "reset"
    assert body["scenario"] == "clock"
    assert body["clock"]["iso8601"].startswith("2030-01-01T00:0")
    assert body["clock"]["offset_seconds"] == 0
    c.close()


def test_sighup_reloads_the_file_and_keeps_it_when_refused(start_mock,
                                                           tmp_path):
    path = write(tmp_path, "live.yaml", CUSTOM)
    mock = start_mock("--scenario", str(path))
    c = mock.client()

    def bank_ttl():
        return c.get("/__admin/scenario").json()["tokens"]["bank_ttl_seconds"]

    assert bank_ttl() == 90
    path.write_text(CUSTOM.replace("bank_ttl: 90s", "bank_ttl: 45s"))
    mock.signal(signal.SIGHUP)
    assert wait_for(lambda: bank_ttl() == 45)
    path.write_text(CUSTOM.replace("bank_ttl: 90s", "bank_ttl: 45 seconds"))
    mock.signal(signal.SIGHUP)
    assert wait_for(lambda: "kept the running scenario" in mock.stderr())
    assert '%s:5:13: bad duration' % path in mock.stderr()
    assert bank_ttl() == 45
    c.close()
