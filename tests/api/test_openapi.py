"""GET /openapi.json covers every route of the app."""

from __future__ import annotations

from starlette.routing import Route

from tests.api.conftest import Api

COLLECTOR_PATHS = ("/", "/log", "/pixel.js", "/_fakeboxer/ui")


def test_every_route_is_documented(api: Api) -> None:
    r = api.client.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    registered = [route.path for route in api.app.web.router.routes if isinstance(route, Route)]
    assert any(p.startswith("/_fakeboxer/") for p in registered)
    for path in [*registered, *COLLECTOR_PATHS]:
        assert path in paths, f"{path} missing from openapi.json"
    for path, item in paths.items():
        for method, op in item.items():
            assert "responses" in op, (path, method)
    for name in ("Lead", "Session", "Event", "Error"):
        assert name in doc["components"]["schemas"]
