"""Starlette's CORS middleware, with a short path for requests that send no ``Origin``.

Most API requests come from programs, not browsers, and carry no ``Origin``; for them Starlette's
middleware only appends ``Origin`` to the answer's ``Vary`` header, but through a header view of the
request, a partial and a header view of the answer, about a twentieth of a page served from memory.
This subclass does that same edit on the raw header list (the same headers in the same places) and
leaves every request with an ``Origin``, preflights included, to Starlette's own code.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Receive, Scope, Send


class CorsMiddleware(CORSMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(key == b"origin" for key, _ in scope["headers"]):
            await super().__call__(scope, receive, send)
            return

        async def send_varying(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = vary_on_origin(list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, send_varying)


def vary_on_origin(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``MutableHeaders(raw=headers)["Vary"] = ", ".join([*getlist("Vary"), "Origin"])``: the first ``vary``
    header holds every value and ``Origin``, later ones go (or one is appended)."""
    places = [index for index, (key, _) in enumerate(headers) if key == b"vary"]
    value = b", ".join([*(headers[index][1] for index in places), b"Origin"])
    for index in reversed(places[1:]):
        del headers[index]
    if places:
        headers[places[0]] = (b"vary", value)
    else:
        headers.append((b"vary", value))
    return headers
