"""An ASGI middleware that serves only requests addressed to a loopback name.

An ``--insecure-local`` server answers everyone as the default tenant's admin, trusting
that only this machine can reach it. A web page the user opens can still reach it by
DNS rebinding: its own name made to resolve to 127.0.0.1, the browser sends it the
page's ``Host``. So the server answers only requests whose ``Host`` is a loopback name
(``localhost``, ``*.localhost``, ``127.0.0.0/8``, ``[::1]``, any port), and refuses
the rest with 403 problem+json naming the header, before any route runs.
"""

from __future__ import annotations

import ipaddress
import json

from starlette.types import ASGIApp, Receive, Scope, Send

from headrace.api.problems import MEDIA_TYPE


def loopback_host(value: str) -> bool:
    """Whether a ``Host`` header value (``name[:port]``, ``[v6][:port]``) names this machine."""
    host, port = value.strip().lower(), ""
    if host.startswith("["):
        host, bracket, port = host[1:].partition("]")
        if not bracket:
            return False
    elif host.count(":") == 1:
        host, port = host.split(":")
        port = ":" + port
    if port and not (port[0] == ":" and port[1:].isdigit() and int(port[1:]) <= 65535):
        return False
    host = host.rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LoopbackHosts:
    """Refuse every HTTP request whose ``Host`` is not a loopback name (403)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI call, or refuse it."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        hosts = [v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"]
        if len(hosts) == 1 and loopback_host(hosts[0]):
            await self.app(scope, receive, send)
            return
        shown = ascii(hosts[0][:100]) if hosts else "none"
        body = json.dumps(
            {
                "type": "urn:headrace:problem:permission-denied",
                "title": "permission denied",
                "status": 403,
                "detail": (
                    f"Host {shown} is not a loopback name: an --insecure-local server "
                    "answers only requests addressed to localhost, 127.0.0.1 or [::1]"
                ),
                "field": "header.host",
                "instance": scope.get("path"),
            }
        ).encode()
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
