"""A response's Content-Encoding undone in bounded pieces, so a compression bomb stops at the cap.

Hand-written because httpx's decoders, like zlib's one-shot ``decompress``, return all that a
chunk expands to (64 KiB of gzip can become 64 MiB) before anyone can count it; here every step
yields at most 64 KiB, and the reader stops pulling once the body is over its cap.
Only what opsproof asks for (``Accept-Encoding: gzip, deflate``) is decoded.
"""

import zlib
from collections.abc import Iterator

from opsproof.errors import UndecodableBody

ACCEPT_ENCODING = "gzip, deflate"
DECODED = frozenset({"gzip", "x-gzip", "deflate"})
_PIECE = 64 * 1024


class Decoder:
    """Undoes one content coding (``gzip`` or ``deflate``), a piece at a time."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._gzip = coding in ("gzip", "x-gzip")
        self._raw_deflate = False
        self._started = False
        self._inflater = self._new()

    def _new(self) -> "zlib._Decompress":
        if self._gzip:
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS if self._raw_deflate else zlib.MAX_WBITS)

    def decode(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes of ``data``, in pieces of at most 64 KiB."""
        try:
            yield from self._pieces(data)
        except zlib.error as exc:
            if self._gzip or self._started or self._raw_deflate:
                raise UndecodableBody(f"{self.coding} body does not decode: {exc}") from exc
            # "deflate" is zlib-wrapped by the standard and raw in some servers; httpx tries both.
            self._raw_deflate = True
            self._inflater = self._new()
            yield from self.decode(data)

    def _pieces(self, data: bytes) -> Iterator[bytes]:
        while data:
            piece = self._inflater.decompress(data, _PIECE)
            self._started = self._started or bool(piece)
            if piece:
                yield piece
            if self._inflater.eof:
                # A gzip body may hold several members, one after the other (RFC 1952 2.2).
                data = self._inflater.unused_data
                if data and self._gzip:
                    self._inflater = self._new()
                    continue
                return
            data = self._inflater.unconsumed_tail
            while not data and len(piece) == _PIECE:  # input used up, output still pending
                piece = self._inflater.decompress(b"", _PIECE)
                if piece:
                    yield piece

    def finish(self) -> None:
        """Raise :class:`UndecodableBody` if the encoded body ended early."""
        if self._started and not self._inflater.eof:
            raise UndecodableBody(f"{self.coding} body ends early (truncated)")


def decoder_for(content_encoding: str) -> Decoder | None:
    """A decoder for the header's coding; ``None`` for identity and for codings not decoded
    (several at once, or any opsproof did not ask for), whose bytes are kept as they came."""
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if len(codings) == 1 and codings[0] in DECODED:
        return Decoder(codings[0])
    return None
