"""Measures cybrid-mock and writes bench/results.md.

Each server runs on 127.0.0.1 with a free port; wrk loads it with 2
threads and 32 keep-alive connections. Every figure comes from this one
run on this machine, so the ratios compare like with like.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
MOCK = os.path.join(ROOT, "build-release", "cybrid-mock")
CEILING = os.path.join(ROOT, "build-release", "bench-ceiling")
PRISM = os.path.join(OUT, "prism", "node_modules", ".bin", "prism")
BANK = "b0a1c2d3e4f5061728394a5b6c7d8e9f"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(cmd, env=None, ready=b"ready "):
    """Starts a server that prints a ready line; returns (proc, url)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env)
    line = proc.stdout.readline()
    if not line.startswith(ready):
        proc.kill()
        raise RuntimeError("%s did not start" % cmd[0])
    return proc, line.split()[1].decode()


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def https(url, ca, method="GET", body=None, headers=None):
    ctx = ssl.create_default_context(cafile=ca)
    req = urllib.request.Request(url, data=body, method=method,
                                 headers=headers or {})
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        return r.read()


def token(url, ca):
    body = json.dumps({"grant_type": "client_credentials",
                       "client_id": "mock-bank-client-id",
                       "client_secret": "mock-bank-client-secret"}).encode()
    out = https(url + "/oauth/token", ca, "POST", body,
                {"Content-Type": "application/json"})
    return json.loads(out)["access_token"]


def lua(path, method, body=None, headers=None):
    lines = ['wrk.method = "%s"' % method]
    if body is not None:
        lines.append("wrk.body = %s" % json.dumps(body))
    for k, v in (headers or {}).items():
        lines.append('wrk.headers["%s"] = "%s"' % (k, v))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def wrk(url, seconds, script=None, headers=None):
    cmd = ["wrk", "-t2", "-c32", "-d%ds" % seconds, "--latency"]
    for k, v in (headers or {}).items():
        cmd += ["-H", "%s: %s" % (k, v)]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True,
                         timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "requests": total,
            "p50": latency(out, "50%"), "p99": latency(out, "99%"),
            "errors": int(non2xx.group(1)) if non2xx else 0}


def latency(out, pct):
    m = re.search(r"\s%s\s+([\d.]+)(us|ms|s)" % re.escape(pct), out)
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def openssl_sign_rate():
    out = subprocess.run(["openssl", "speed", "-seconds", "3", "rsa2048"],
                         capture_output=True, text=True, timeout=120).stdout
    m = re.search(r"rsa\s+2048 bits\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)", out)
    return float(m.group(1)) if m else None


def start_times(tls_dir, n, fresh):
    times = []
    for i in range(n):
        d = tempfile.mkdtemp() if fresh else tls_dir
        began = time.perf_counter()
        proc, _ = start([MOCK, "--listen", "127.0.0.1:0", "--tls-dir", d,
                         "--log-level", "warn"])
        times.append((time.perf_counter() - began) * 1000)
        stop(proc)
        if fresh:
            shutil.rmtree(d)
    return statistics.median(times)


def peak_rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return None


def measure(args):
    tls = tempfile.mkdtemp(prefix="bench-tls-")
    ca = os.path.join(tls, "ca.pem")
    scenario = os.path.join(ROOT, "bench", "bench.yaml")
    cmd = [MOCK, "--listen", "127.0.0.1:0", "--tls-dir", tls,
           "--log-level", "warn", "--scenario", scenario]
    proc, url = start(cmd)
    rows, notes = {}, []
    try:
        tok = token(url, ca)
        auth = {"Authorization": "Bearer " + tok}
        bank_url = url + "/api/banks/" + BANK
        bank_json = https(bank_url, ca, headers=auth)
        rows["GET bank (mock)"] = wrk(bank_url, args.duration, headers=auth)
        rss = peak_rss_mb(proc.pid)
        rows["POST /oauth/token (mock)"] = wrk(
            url + "/oauth/token", args.duration,
            lua(os.path.join(OUT, "token.lua"), "POST",
                json.dumps({"grant_type": "client_credentials",
                            "client_id": "mock-bank-client-id",
                            "client_secret": "mock-bank-client-secret"}),
                {"Content-Type": "application/json"}))
        rows["PATCH bank (mock)"] = wrk(
            bank_url, args.duration,
            lua(os.path.join(OUT, "patch.lua"), "PATCH",
                json.dumps({"name": "Benchmark Bank"}),
                dict(auth, **{"Content-Type": "application/json"})))
        with open(os.path.join(ROOT, "bench", "bench-faults.yaml")) as f:
            text = f.read()
        https(url + "/__admin/scenario", ca, "PUT", text.encode(),
              {"Content-Type": "application/yaml"})
        tok = token(url, ca)
        auth = {"Authorization": "Bearer " + tok}
        rows["GET bank, fault rule + journal (mock)"] = wrk(
            bank_url, args.duration, headers=auth)
    finally:
        stop(proc)

    body_file = os.path.join(OUT, "bank.json")
    with open(body_file, "wb") as f:
        f.write(bank_json)
    ceil, curl = start([CEILING, "127.0.0.1:0", os.path.join(tls, "server.pem"),
                        os.path.join(tls, "server-key.pem"), body_file])
    try:
        # The same request bytes as the mock's run, token included.
        rows["GET bank (ceiling)"] = wrk(curl + "/api/banks/" + BANK,
                                         args.duration, headers=auth)
    finally:
        stop(ceil)

    if os.path.exists(PRISM):
        with open(os.path.join(ROOT, "bench", "openapi.yaml")) as f:
            doc = f.read().replace("BANK_EXAMPLE", bank_json.decode())
        spec = os.path.join(OUT, "openapi.yaml")
        with open(spec, "w") as f:
            f.write(doc)
        port = free_port()
        prism = subprocess.Popen([PRISM, "mock", "-h", "127.0.0.1", "-p",
                                  str(port), spec],
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            rows["GET bank (Prism, plain HTTP)"] = wrk(
                "http://127.0.0.1:%d/api/banks/%s" % (port, BANK),
                args.duration, headers=auth)
        finally:
            stop(prism)
    else:
        notes.append("Prism was not installed: no peer row.")

    figures = {"sign_rate": openssl_sign_rate(), "rss_mb": rss,
               "start_ms": start_times(tls, 20, False),
               "start_fresh_ms": start_times(tls, 5, True)}
    shutil.rmtree(tls)
    return rows, figures, notes


def report(rows, figures, notes, duration):
    lines = ["# cybrid-mock benchmark", "",
             "%s, %d cores, wrk -t2 -c32 -d%ds over TLS keep-alive "
             "(Prism over plain HTTP)." % (
                 datetime.date.today().isoformat(), os.cpu_count(), duration),
             "", "| run | requests/s | p50 ms | p99 ms | non-2xx |",
             "|---|---:|---:|---:|---:|"]
    for name, r in rows.items():
        lines.append("| %s | %.0f | %.2f | %.2f | %d |" % (
            name, r["rps"], r["p50"], r["p99"], r["errors"]))
    get = rows["GET bank (mock)"]["rps"]
    ratios = ["", "| ratio | value | target |", "|---|---:|---:|",
              "| GET bank, mock / ceiling | %.2f | >= 0.70 |" % (
                  get / rows["GET bank (ceiling)"]["rps"])]
    if "GET bank (Prism, plain HTTP)" in rows:
        ratios.append("| GET bank, mock / Prism | %.1f | >= 15 |" % (
            get / rows["GET bank (Prism, plain HTTP)"]["rps"]))
    if figures["sign_rate"]:
        ratios.append(
            "| POST /oauth/token / openssl speed rsa2048 sign/s (%.0f) "
            "| %.2f | >= 1.2 |" % (
                figures["sign_rate"],
                rows["POST /oauth/token (mock)"]["rps"] /
                figures["sign_rate"]))
    ratios += [
        "| start to ready, certificates present (median of 20) "
        "| %.1f ms | < 50 ms |" % figures["start_ms"],
        "| start to ready, certificates generated (median of 5) "
        "| %.1f ms | |" % figures["start_fresh_ms"],
        "| peak RSS after the GET run (%d requests) | %.1f MB | < 20 MB |" % (
            rows["GET bank (mock)"]["requests"], figures["rss_mb"])]
    text = "\n".join(lines + ratios + [""] + notes) + "\n"
    with open(os.path.join(ROOT, "bench", "results.md"), "w") as f:
        f.write(text)
    print(text)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    rows, figures, notes = measure(args)
    report(rows, figures, notes, args.duration)


if __name__ == "__main__":
    sys.exit(main())
