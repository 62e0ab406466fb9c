"""POST /__admin/events and GET /__admin/webhooks, without receivers."""

ORG = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
BANK = "b0a1c2d3e4f5061728394a5b6c7d8e9f"


def test_admin_event_is_stored_with_subscription_event_fields(client):
    obj = "ab" * 16
    r = client.post("/__admin/events",
                    {"event_type": "trade.completed", "object_guid": obj})
    assert r.status == 201, r.body
    ev = r.json()
    assert set(ev) == {"guid", "organization_guid", "bank_guid", "event_type",
                       "object_guid", "environment", "created_at",
                       "updated_at"}
    assert ev["organization_guid"] == ORG
    assert ev["bank_guid"] == BANK
    assert ev["object_guid"] == obj
    assert ev["environment"] == "sandbox"
    assert len(ev["guid"]) == 32


def test_admin_event_refuses_unknown_event_type(client):
    r = client.post("/__admin/events", {"event_type": "trade.exploded"})
    assert r.status == 400
    assert r.json()["message_code"] == "invalid_parameter"


def test_admin_event_refuses_unknown_tamper_mode(client):
    r = client.post("/__admin/events",
                    {"event_type": "trade.completed", "tamper": "forged"})
    assert r.status == 400


def test_admin_event_refuses_unknown_fields_and_bad_guids(client):
    r = client.post("/__admin/events",
                    {"event_type": "trade.completed", "extra": 1})
    assert r.status == 400
    r = client.post("/__admin/events",
                    {"event_type": "trade.completed", "bank_guid": "XYZ"})
    assert r.status == 400
    r = client.post("/__admin/events",
                    {"event_type": "trade.completed", "bank_guid": 7})
    assert r.status == 400


def test_admin_event_for_unknown_organization_is_404(client):
    r = client.post("/__admin/events", {"event_type": "trade.completed",
                                        "organization_guid": "0" * 32})
    assert r.status == 404


def test_admin_webhooks_lists_counters_and_no_attempts_at_start(client):
    r = client.get("/__admin/webhooks")
    assert r.status == 200
    body = r.json()
    assert body["attempts"] == []
    assert body["queued"] == 0
    assert body["dropped"] == 0


def test_admin_webhooks_refuses_a_bad_filter(client):
    r = client.get("/__admin/webhooks?event_guid=nope")
    assert r.status == 400
