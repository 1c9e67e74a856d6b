"""Minimal, dependency-free MP4 (ISO BMFF) inspector.

Reads just enough of the box tree to report the major brand (``ftyp``), the
movie duration (``moov/mvhd``), the first video track's frame size
(``trak/tkhd``) and codec fourcc (``trak/mdia/minf/stbl/stsd``), and the first
sound track's codec fourcc and duration, if the file has one.
"""

from __future__ import annotations

import dataclasses
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass

_Box = tuple[str, int, int]  # (type, payload start, end), offsets into the buffer


@dataclass(frozen=True)
class Mp4Info:
    duration_s: float
    width: int
    height: int
    codec: str
    brand: str
    audio: str | None = None  # the first sound track's codec ("mp4a"), None without one
    audio_s: float = 0.0  # that track's duration in seconds


def _boxes(data: bytes, start: int, end: int) -> Iterator[_Box]:
    """Yield the boxes laid out back to back in ``data[start:end]``."""
    pos = start
    while pos < end:
        if end - pos < 8:
            raise ValueError(f"truncated MP4: box header at offset {pos} is cut off")
        size, raw_type = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:  # 64-bit "largesize" follows the type
            if end - pos < 16:
                raise ValueError(f"truncated MP4: box header at offset {pos} is cut off")
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:  # box extends to the end of its container
            size = end - pos
        if size < header:
            raise ValueError(f"not an MP4: bad box size {size} at offset {pos}")
        if pos + size > end:
            raise ValueError(
                f"truncated MP4: box {raw_type!r} at offset {pos} needs {size} bytes, "
                f"only {end - pos} available"
            )
        yield raw_type.decode("latin-1"), pos + header, pos + size
        pos += size


def _child(data: bytes, box: _Box, path: str) -> _Box:
    """Descend along a '/'-separated path of box types; first match at each level."""
    for name in path.split("/"):
        found = next((b for b in _boxes(data, box[1], box[2]) if b[0] == name), None)
        if found is None:
            raise ValueError(f"not a playable MP4: missing '{name}' box in '{box[0]}'")
        box = found
    return box


def _payload(data: bytes, box: _Box, need: int) -> int:
    """Return the payload offset of ``box``, checking it holds ``need`` bytes."""
    if box[2] - box[1] < need:
        raise ValueError(f"truncated MP4: '{box[0]}' box is too short")
    return box[1]


def probe(data: bytes) -> Mp4Info:
    """Parse an in-memory MP4 file; raise ``ValueError`` if it is not a usable one."""
    top = list(_boxes(data, 0, len(data)))
    if not top or top[0][0] != "ftyp":
        raise ValueError("not an MP4: file does not start with an 'ftyp' box")
    ftyp = top[0]
    brand = data[_payload(data, ftyp, 4) : ftyp[1] + 4].decode("latin-1")
    moov = next((b for b in top if b[0] == "moov"), None)
    if moov is None:
        raise ValueError("not a playable MP4: no 'moov' box")

    timescale, duration = _timing(data, _child(data, moov, "mvhd"))
    if timescale == 0:
        raise ValueError("bad MP4: 'mvhd' timescale is 0")

    video: Mp4Info | None = None
    audio: tuple[str, float] | None = None
    for trak in (b for b in _boxes(data, moov[1], moov[2]) if b[0] == "trak"):
        hdlr = _child(data, trak, "mdia/hdlr")
        pos = _payload(data, hdlr, 12)
        handler = data[pos + 8 : pos + 12]
        if handler == b"soun" and audio is None:
            audio = (_codec(data, trak), _media_seconds(data, trak))
        if handler != b"vide" or video is not None:
            continue
        tkhd = _child(data, trak, "tkhd")
        pos = _payload(data, tkhd, 4)
        wh_at = 88 if data[pos] == 1 else 76  # after the version-dependent fields + matrix
        _payload(data, tkhd, wh_at + 8)
        width, height = struct.unpack_from(">II", data, pos + wh_at)
        video = Mp4Info(
            duration_s=duration / timescale,
            width=width >> 16,  # 16.16 fixed point
            height=height >> 16,
            codec=_codec(data, trak),
            brand=brand,
        )
    if video is None:
        raise ValueError("not a playable MP4: no video track")
    if audio is None:
        return video
    return dataclasses.replace(video, audio=audio[0], audio_s=audio[1])


def _codec(data: bytes, trak: _Box) -> str:
    stsd = _child(data, trak, "mdia/minf/stbl/stsd")
    pos = _payload(data, stsd, 16)
    if struct.unpack_from(">I", data, pos + 4)[0] == 0:
        raise ValueError("bad MP4: 'stsd' has no sample entries")
    return data[pos + 12 : pos + 16].decode("latin-1")


def _timing(data: bytes, box: _Box) -> tuple[int, int]:
    """Return (timescale, duration) of an ``mvhd`` or ``mdhd`` box (the same layout)."""
    pos = _payload(data, box, 4)
    if data[pos] == 1:
        _payload(data, box, 32)
        timescale, duration = struct.unpack_from(">IQ", data, pos + 20)
    else:
        _payload(data, box, 20)
        timescale, duration = struct.unpack_from(">II", data, pos + 12)
    return int(timescale), int(duration)


def _media_seconds(data: bytes, trak: _Box) -> float:
    timescale, duration = _timing(data, _child(data, trak, "mdia/mdhd"))
    return duration / timescale if timescale else 0.0


def probe_file(path: str | os.PathLike[str]) -> Mp4Info:
    """Read and :func:`probe` the MP4 file at ``path``."""
    with open(path, "rb") as f:
        return probe(f.read())
