"""A small, fast callback receiver for the benchmarks: answers every request 200 at once.

``python bench/receiver.py PORT`` listens on 127.0.0.1:PORT with an asyncio protocol (no
framework: it must never be the bottleneck), keeps connections alive, reads each request's
``Content-Length`` bytes and answers ``200`` with an empty body. ``GET /count`` answers the
number of POSTs received so far (text), so a bench reads how many callbacks arrived.
"""

from __future__ import annotations

import asyncio
import sys

_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
_HEAD_END = b"\r\n\r\n"


class Receiver(asyncio.Protocol):
    """One connection: parse requests as they arrive, answer each 200."""

    posts = 0  # across every connection of the process

    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(_HEAD_END)) >= 0:
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            total = end + len(_HEAD_END) + length
            if len(self.buffer) < total:
                return
            self.buffer = self.buffer[total:]
            assert self.transport is not None
            if head.startswith("GET /count"):
                text = str(Receiver.posts).encode()
                self.transport.write(
                    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(text), text)
                )
            else:
                Receiver.posts += 1
                self.transport.write(_OK)


async def serve(port: int) -> None:
    """Listen on 127.0.0.1:`port` until killed."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Receiver, "127.0.0.1", port, backlog=1024)
    print(f"receiver listening on 127.0.0.1:{port}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
