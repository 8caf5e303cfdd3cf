"""A POST whose client goes away mid-body got no answer, so nothing is stored (a retry
would otherwise store the hit twice, once truncated)."""

from __future__ import annotations

import socket

from tests.conftest import Server


def test_post_cut_off_mid_body_stores_nothing(server: Server) -> None:
    body = b"si=cut&ti=Whole&plan=pro"
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {len(body) + 50}\r\n\r\n".encode()
            + body
        )
    whole = server.hit(method="POST", si="cut", ti="After")
    assert whole.status_code == 200
    assert [e["ti"] for e in server.events(site="cut")] == ["After"]
