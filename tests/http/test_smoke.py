from tests.conftest import Server


def test_json_hit_is_stored_and_listed(server: Server) -> None:
    r = server.hit(si="demo", ti="Hello", email="ada@example.com", json="true")
    assert r.status_code == 200
    ids = r.json()
    events = server.events(site="demo")
    assert [e["event_id"] for e in events] == [ids["eventId"]]
    assert events[0]["use_id"] == ids["userId"]
    assert events[0]["session_id"] == ids["sessionId"]
    assert events[0]["properties"] == {"ti": "Hello", "email": "ada@example.com"}
