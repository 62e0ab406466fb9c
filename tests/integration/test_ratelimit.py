"""Rate limits and the metrics that report them, end to end.

Every mock started here is fresh, so the client (127.0.0.1) starts with
empty windows. Time moves with POST /__admin/clock/advance; bounds on
Retry-After come from clock readings taken around the requests, never
from sleeping.
"""
import math

from prometheus_client.parser import text_string_to_metric_families

from conftest import BANK_CLIENT, fetch_token

PROBE = "/api/rate-limit-probe"  # unknown /api/ paths count too
WINDOW_MS = 300_000
YAML = {"Content-Type": "application/yaml"}


def clock_ms(client):
    r = client.get("/__admin/clock")
    assert r.status == 200
    return r.json()["now_ms"]


def advance(client, seconds):
    r = client.post("/__admin/clock/advance", {"seconds": seconds})
    assert r.status == 200


def spend(client, n, path=PROBE, method="GET", **kw):
    """Sends n requests that must all get through the limiter."""
    for _ in range(n):
        r = client.request(method, path, **kw)
        assert r.status != 429 and r.status != 403, r.body
        assert r.json().get("message_code") != "rate_limited"


def assert_rate_limited_429(r):
    assert r.status == 429
    body = r.json()
    assert body["status"] == 429
    assert body["message_code"] == "rate_limited"
    assert "rate limit" in body["error_message"]
    return int(r.header("Retry-After"))


def samples(client):
    """{(name, frozenset(labels)): value} from GET /__admin/metrics."""
    r = client.get("/__admin/metrics")
    assert r.status == 200
    assert r.header("Content-Type").startswith("text/plain; version=0.0.4")
    out = {}
    for family in text_string_to_metric_families(r.body.decode()):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def refusals(m, cls):
    return m[("cybrid_mock_rate_limited_total",
              frozenset({("class", cls)}))]


def test_101st_api_request_gets_429_with_retry_after_then_passes(client):
    before = clock_ms(client)
    spend(client, 100)
    r = client.get(PROBE)
    after = clock_ms(client)
    retry = assert_rate_limited_429(r)
    # Whole seconds until the first request leaves the window.
    assert math.ceil((before + WINDOW_MS - after) / 1000) <= retry <= 300
    # Refused requests do not count: more of them change nothing.
    for _ in range(5):
        assert_rate_limited_429(client.get(PROBE))
    advance(client, retry)
    r = client.get(PROBE)
    assert r.status == 404
    assert r.json()["message_code"] == "not_found"


def test_one_slot_frees_when_the_oldest_request_leaves(client):
    t0 = clock_ms(client)
    spend(client, 1)
    t1 = clock_ms(client)
    advance(client, 100)
    spend(client, 99)
    t2 = clock_ms(client)
    retry = assert_rate_limited_429(client.get(PROBE))
    t3 = clock_ms(client)
    # The oldest counted request was sent between t0 and t1.
    lo = math.ceil((t0 + WINDOW_MS - t3) / 1000)
    hi = math.ceil((t1 + WINDOW_MS - t2) / 1000)
    assert lo <= retry <= hi
    assert 150 < retry <= 200
    advance(client, retry)
    spend(client, 1)
    # Only that one slot freed: the 99 later requests still fill the
    # window, for about the 100 seconds that separated them.
    retry = assert_rate_limited_429(client.get(PROBE))
    assert 0 < retry <= math.ceil((t2 - t0) / 1000)


def test_admin_and_other_paths_are_never_limited(client):
    spend(client, 100)
    assert_rate_limited_429(client.get("/api/banks"))
    for _ in range(150):
        assert client.get("/__admin/health").status == 200
    assert client.get("/__admin/clock").status == 200
    assert client.get("/__admin/metrics").status == 200
    r = client.get("/not-the-api")
    assert r.status == 404
    assert r.json()["message_code"] == "not_found"


def test_forwarded_for_from_an_untrusted_peer_is_ignored(client):
    # The default scenario trusts no proxy: a client cannot dodge the
    # limit by inventing a new address for every request.
    for i in range(100):
        r = client.get(PROBE, headers={"X-Forwarded-For": "203.0.113.%d" % i})
        assert r.status == 404
    r = client.get(PROBE, headers={"X-Forwarded-For": "198.51.100.1"})
    assert_rate_limited_429(r)


def assert_rate_limited_403(r):
    assert r.status == 403
    body = r.json()
    assert body["status"] == 403
    assert body["message_code"] == "rate_limited"
    assert "rate limit" in body["error_message"]
    assert "not an authorization failure" in body["error_message"]
    assert r.header("Retry-After") is None


def test_21st_token_request_gets_403_unlike_a_missing_scope(client):
    narrow = fetch_token(client, BANK_CLIENT,
                         scope="customers:read")["access_token"]
    for _ in range(19):
        fetch_token(client, BANK_CLIENT)
    r = client.post("/oauth/token", {"grant_type": "client_credentials",
                                     "client_id": BANK_CLIENT[0],
                                     "client_secret": BANK_CLIENT[1]})
    assert_rate_limited_403(r)
    # A 403 for a missing scope says something else: a client can tell.
    r = client.post("/api/customer_tokens", {}, token=narrow)
    assert r.status == 403
    assert r.json()["message_code"] == "forbidden"
    # The token limit is its own: the API limit is untouched.
    assert client.get(PROBE).status == 404
    # Nor do refused token requests count: the window frees on time.
    advance(client, 300)
    fetch_token(client, BANK_CLIENT)


def test_201st_customer_token_request_gets_403_rate_limited(client):
    bank = fetch_token(client, BANK_CLIENT)["access_token"]
    for _ in range(200):
        r = client.post("/api/customer_tokens", {}, token=bank)
        assert r.status == 400  # passed the limit and the token check
    assert_rate_limited_403(client.post("/api/customer_tokens", {},
                                        token=bank))
    # Customer-token requests are not counted against the API limit.
    spend(client, 100)
    assert_rate_limited_429(client.get(PROBE))
    advance(client, 300)
    assert client.post("/api/customer_tokens", {}, token=bank).status == 400


def test_scenario_can_switch_limits_off(start_mock, tmp_path):
    path = tmp_path / "unlimited.yaml"
    path.write_text("name: unlimited\nextends: default\n"
                    "rate_limits:\n  general: off\n  oauth_token: off\n")
    mock = start_mock("--scenario", str(path))
    c = mock.client()
    spend(c, 250)
    for _ in range(30):
        fetch_token(c, BANK_CLIENT)
    # customer_tokens kept the default's limit.
    scenario = c.get("/__admin/scenario").json()["rate_limits"]
    assert scenario["customer_tokens"]["limit"] == 200
    assert refusals(samples(c), "general") == 0
    c.close()


def test_put_scenario_sets_limits_and_starts_windows_afresh(client):
    spend(client, 100)
    assert_rate_limited_429(client.get(PROBE))
    r = client.put("/__admin/scenario",
                   "name: tight\nextends: default\nrate_limits:\n"
                   "  general: {limit: 2, window: 10s}\n"
                   "  oauth_token: {limit: 1, retry_after: true}\n",
                   headers=YAML)
    assert r.status == 200, r.body
    spend(client, 2)
    assert 1 <= assert_rate_limited_429(client.get(PROBE)) <= 10
    fetch_token(client, BANK_CLIENT)
    r = client.post("/oauth/token", {"grant_type": "client_credentials"})
    assert r.status == 403
    assert r.json()["message_code"] == "rate_limited"
    assert 1 <= int(r.header("Retry-After")) <= 300
    advance(client, 10)
    spend(client, 2)


def test_forwarded_for_counts_per_client_behind_a_trusted_proxy(
        start_mock, tmp_path):
    path = tmp_path / "proxied.yaml"
    path.write_text("name: proxied\nextends: default\nrate_limits:\n"
                    "  general: {limit: 3}\n"
                    "  trusted_proxies: [127.0.0.1]\n")
    mock = start_mock("--scenario", str(path))
    c = mock.client()
    alice = {"X-Forwarded-For": "203.0.113.1"}
    bob = {"X-Forwarded-For": "198.51.100.7, 203.0.113.2"}
    spend(c, 3, headers=alice)
    assert_rate_limited_429(c.get(PROBE, headers=alice))
    # Each client behind the proxy has its own window; what a client
    # wrote before the proxy's entry is not believed.
    spend(c, 3, headers=bob)
    assert_rate_limited_429(
        c.get(PROBE, headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.2"}))
    # The proxy's own requests count as its own address.
    spend(c, 3)
    assert_rate_limited_429(c.get(PROBE))
    m = samples(c)
    assert m[("cybrid_mock_ratelimit_tracked_addresses", frozenset())] == 3
    c.close()


def test_metrics_report_requests_refusals_and_tracked_addresses(client):
    assert client.get("/__admin/health").status == 200
    first = samples(client)
    for name in ("cybrid_mock_requests_total",
                 "cybrid_mock_rate_limited_total",
                 "cybrid_mock_ratelimit_tracked_addresses",
                 "cybrid_mock_ratelimit_evictions_total"):
        assert any(k[0] == name for k in first), name
    for cls in ("general", "oauth_token", "customer_tokens"):
        assert refusals(first, cls) == 0
    assert first[("cybrid_mock_ratelimit_tracked_addresses",
                  frozenset())] == 0

    spend(client, 100)
    for _ in range(3):
        assert_rate_limited_429(client.get(PROBE))
    m = samples(client)
    assert refusals(m, "general") == 3
    assert refusals(m, "oauth_token") == 0
    assert m[("cybrid_mock_ratelimit_tracked_addresses", frozenset())] == 1
    assert m[("cybrid_mock_ratelimit_evictions_total", frozenset())] == 0
    unmatched = {("route", "unmatched")}
    assert m[("cybrid_mock_requests_total",
              frozenset(unmatched | {("status", "404")}))] == 100
    assert m[("cybrid_mock_requests_total",
              frozenset(unmatched | {("status", "429")}))] == 3
    assert m[("cybrid_mock_requests_total",
              frozenset({("route", "admin.health"), ("status", "200")}))] == 1
    # The first scrape itself was counted under its route.
    assert m[("cybrid_mock_requests_total",
              frozenset({("route", "admin.metrics"),
                         ("status", "200")}))] == 1
