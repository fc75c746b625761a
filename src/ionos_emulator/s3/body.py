"""A request body as it arrives: plain, or `aws-chunked` (SigV4 streaming: each chunk's signature checked
against the chain seeded by the request's signature; trailing checksums read and, for CRC32 and SHA-256,
checked), bounded by what the request declared."""

from __future__ import annotations

import base64
import hashlib
import hmac
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

from . import auth
from .xml import S3Error

MAX_CHUNK_HEADER = 4096


class ClientGone(Exception):
    """The client disconnected before the body was complete."""


async def raw(receive: Callable[[], Awaitable[dict]]) -> AsyncIterator[bytes]:
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            raise ClientGone()
        chunk = msg.get("body", b"")
        if chunk:
            yield chunk
        if not msg.get("more_body"):
            return


async def read_all(receive: Callable[[], Awaitable[dict]], limit: int) -> bytes:
    out = bytearray()
    async for chunk in raw(receive):
        out += chunk
        if len(out) > limit:
            raise S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    return bytes(out)


class Decoded:
    """The data of an aws-chunked body, and the trailing headers it ended with."""

    def __init__(self, source: AsyncIterator[bytes], signed: auth.Signed):
        self.source = source
        self.signed = signed
        self.check = signed.payload in (auth.STREAMING, auth.STREAMING_TRAILER)
        self.trailer = signed.payload in (auth.STREAMING_TRAILER, auth.STREAMING_UNSIGNED_TRAILER)
        self.trailers: dict[str, str] = {}
        self.crc = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        buf = bytearray()
        source = self.source.__aiter__()
        previous = self.signed.seed

        async def more() -> None:
            try:
                buf.extend(await source.__anext__())
            except StopAsyncIteration:
                raise S3Error("IncompleteBody", "The request body ended inside an aws-chunked chunk") from None

        while True:
            while b"\r\n" not in buf:
                if len(buf) > MAX_CHUNK_HEADER:
                    raise S3Error("InvalidRequest", "An aws-chunked chunk header is too long")
                await more()
            line, _, rest = bytes(buf).partition(b"\r\n")
            del buf[: len(line) + 2]
            size_hex, _, ext = line.decode("latin-1").partition(";")
            try:
                size = int(size_hex, 16)
            except ValueError:
                raise S3Error("InvalidRequest", "An aws-chunked chunk header is malformed") from None
            signature = ext.partition("chunk-signature=")[2].strip()
            if self.check and not signature:
                raise S3Error("SignatureDoesNotMatch", "An aws-chunked chunk carries no chunk-signature")
            while len(buf) < size + (2 if size else 0):
                await more()
            data = bytes(buf[:size])
            if self.check:
                expected = auth.chunk_signature(self.signed, previous, hashlib.sha256(data).hexdigest())
                if not hmac.compare_digest(expected, signature):
                    raise S3Error(
                        "SignatureDoesNotMatch",
                        "The request signature we calculated does not match the signature you provided.",
                    )
                previous = signature
            if size == 0:
                await self._end(buf, more, previous)
                return
            if buf[size : size + 2] != b"\r\n":
                raise S3Error("InvalidRequest", "An aws-chunked chunk does not end with CRLF")
            del buf[: size + 2]
            self.crc = zlib.crc32(data, self.crc)
            yield data

    async def _end(self, buf: bytearray, more, previous: str) -> None:
        """After the last (empty) chunk: the trailing headers, if any, up to the blank line."""
        if not self.trailer:
            return
        while b"\r\n\r\n" not in buf and not (buf.startswith(b"\r\n")):
            if len(buf) > MAX_CHUNK_HEADER:
                raise S3Error("InvalidRequest", "The aws-chunked trailer is too long")
            try:
                await more()
            except S3Error:
                break
        text = bytes(buf).decode("latin-1")
        signed_part: list[str] = []
        for line in text.split("\r\n"):
            name, sep, value = line.partition(":")
            if not sep:
                continue
            name = name.strip().lower()
            if name == "x-amz-trailer-signature":
                if self.check:
                    expected = auth.trailer_signature(self.signed, previous, "".join(signed_part).encode())
                    if not hmac.compare_digest(expected, value.strip()):
                        raise S3Error("SignatureDoesNotMatch", "The trailer signature does not match")
                continue
            self.trailers[name] = value.strip()
            signed_part.append(f"{name}:{value.strip()}\n")
        crc = self.trailers.get("x-amz-checksum-crc32")
        if crc is not None and crc != base64.b64encode(self.crc.to_bytes(4, "big")).decode():
            raise S3Error("BadDigest", "The CRC32 you specified did not match the calculated checksum.")
