"""The HTTP/1.1 protocol ``citydip serve`` runs: uvicorn's httptools protocol that refuses
a request head (request line and header fields) larger than the limit with ``431 Request
Header Fields Too Large`` as soon as it passes the limit, instead of buffering it whole.

Measured with uvicorn 0.55 and httptools 0.9: its own protocol accepts a 10 MB header and
hands it to the application; h11 (``--http h11``) stops at 16 KB of an incomplete head, but
answers 400 and resets the connection before the client reads the answer. Here the head is
counted twice: the bytes received while it is incomplete (so that one endless header is cut
off after the limit and one read of the socket), and the parsed request line and fields
(so that a head that came in one piece is measured exactly). After the 431 the connection
is half-closed and what the client still sends is read and dropped for a few seconds
(a "lingering close"), so that the client sees the answer rather than a reset.
"""

from __future__ import annotations

import json
import logging

from .app import MAX_HEAD, head_too_large

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools not installed: uvicorn serves with h11
    HttpToolsProtocol = None

__all__ = ["protocol_class", "LINGER"]

log = logging.getLogger("citydiplomacy.web")

#: seconds a refused connection keeps reading (and dropping) what the client still sends
LINGER = 5.0


class _HeadTooLarge(Exception):
    """Raised in a parser callback: the head passed the limit."""


def _answer(limit: int) -> bytes:
    body = json.dumps({"type": "tag:citydiplomacy,2026:problem:request-header-fields-too-large",
                       "title": "Request header fields too large", "status": 431,
                       "detail": head_too_large(limit)}).encode()
    return (b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: application/problem+json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n"
            b"connection: close\r\n\r\n" + body)


if HttpToolsProtocol is not None:
    class HeadLimitedProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol with a bound on the request head (``max_head`` bytes)."""

        max_head = MAX_HEAD

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._head = 0              # bytes of the current head's parsed line and fields
            self._raw = 0               # bytes received while a head is incomplete
            self._in_head = True        # waiting for (the rest of) a request head
            self._ended = False         # a message ended in the data being parsed
            self._refused = False

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return                  # lingering: drop what still comes
            self._ended = False
            super().data_received(data)
            if self._refused:
                return
            if self._in_head and not self._ended:
                self._raw += len(data)
                if self._raw > self.max_head:
                    self._refuse()

        def _count(self, n: int) -> None:
            self._head += n
            if self._head > self.max_head:
                raise _HeadTooLarge     # the parser stops; uvicorn answers through send_400_response

        def on_message_begin(self) -> None:
            self._head = 0
            super().on_message_begin()

        def on_url(self, url: bytes) -> None:
            self._count(len(url) + 16)          # with the method and the protocol version
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(len(name) + len(value) + 4)
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._in_head = False
            self._raw = 0
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._in_head = True
            self._ended = True
            self._raw = 0

        def send_400_response(self, msg: str) -> None:
            if self._head > self.max_head:
                self._refuse()
            else:
                super().send_400_response(msg)

        def _refuse(self) -> None:
            if self._refused:
                return
            self._refused = True
            client = "%s:%d" % self.client if self.client else "a client"
            log.warning("refused a request head larger than %d bytes from %s (431)", self.max_head, client)
            transport = self.transport
            transport.write(_answer(self.max_head))
            if transport.can_write_eof():
                transport.write_eof()
                self.loop.call_later(LINGER, transport.close)
            else:
                transport.close()
else:  # pragma: no cover
    HeadLimitedProtocol = None


def protocol_class():
    """The ``http`` setting for uvicorn: :class:`HeadLimitedProtocol`, or "h11" where
    httptools is not installed (h11 itself stops an incomplete head at ``MAX_HEAD``)."""
    return HeadLimitedProtocol if HeadLimitedProtocol is not None else "h11"
