"""uvicorn's HTTP protocol, with its own refusals in the API's one JSON error shape.

A request uvicorn cannot parse (a URL or headers past its parser's limits, bytes that are not HTTP) never
reaches the app: uvicorn answers ``400 Invalid HTTP request received.`` as plain text. These subclasses
answer the same refusal as ``{"error": {...}}`` JSON. ``opendata serve`` passes one as ``http=``.
"""

from __future__ import annotations

import json

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.errors import error_body

MESSAGE = ("the request could not be read as HTTP: its URL or headers are too long (keep the URL under 16 KB; "
           "send long queries in a POST body) or it is malformed")


def _body() -> bytes:
    return json.dumps(error_body(400, "bad-request", MESSAGE)).encode()


class JsonHttpToolsProtocol(HttpToolsProtocol):
    def send_400_response(self, msg: str) -> None:
        body = _body()
        content = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend([b"content-type: application/json\r\n", b"content-length: " + str(len(body)).encode()
                        + b"\r\n", b"connection: close\r\n", b"\r\n", body])
        self.transport.write(b"".join(content))
        self.transport.close()


class JsonH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        import h11

        body = _body()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        self.transport.write(self.conn.send(h11.Response(status_code=400, headers=headers, reason=b"Bad Request")))
        self.transport.write(self.conn.send(h11.Data(data=body)))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()


def protocol() -> type:
    """httptools' protocol when httptools is installed (uvicorn's own choice), else h11's."""
    try:
        import httptools  # noqa: F401
    except ImportError:
        return JsonH11Protocol
    return JsonHttpToolsProtocol
