"""Write an MP4 file (ISO/IEC 14496-12 and -15) from an H.264 stream and, optionally, AAC.

The inverse of `mp4info`: ``ftyp``, then ``moov`` (so a player can start before the end of the
download: "fast start"), then ``mdat``. One video track (``avc1`` with its ``avcC``), and an
audio track (``mp4a`` with its ``esds``) when audio frames are given; each track's samples are
one chunk. Sample tables are written whole, no fragments: a result video is at most a few
thousand samples. No library does this without an encoder behind it (PyAV muxes through
FFmpeg's libraries, a 30 MB wheel), and the boxes a player needs are few.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

MOVIE_TIMESCALE = 1000
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
_FLAGS = 3  # tkhd: enabled, in movie


@dataclass(frozen=True)
class Track:
    """One track's samples and timing: `durations` in `timescale` units, one per sample."""

    kind: str  # "vide" | "soun"
    timescale: int
    samples: Sequence[bytes]
    durations: Sequence[int]
    entry: bytes  # the stsd sample entry box
    sync: Sequence[int] | None = None  # 1-based sync samples (video); None: all are
    width: int = 0
    height: int = 0


def box(kind: str, *parts: bytes) -> bytes:
    """Return a box of four-character type `kind` holding `parts`."""
    body = b"".join(parts)
    return struct.pack(">I4s", 8 + len(body), kind.encode("latin-1")) + body


def full_box(kind: str, version: int, flags: int, *parts: bytes) -> bytes:
    """Return a full box (version and flags before the payload)."""
    return box(kind, struct.pack(">I", version << 24 | flags), *parts)


def avc1(width: int, height: int, sps: bytes, pps: bytes) -> bytes:
    """Return an ``avc1`` sample entry for a stream of one SPS and one PPS (NAL units)."""
    avcc = box(
        "avcC",
        bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]),  # 4-byte lengths, one SPS
        struct.pack(">H", len(sps)),
        sps,
        bytes([1]),
        struct.pack(">H", len(pps)),
        pps,
    )
    return box(
        "avc1",
        bytes(6),
        struct.pack(">H", 1),  # data_reference_index
        bytes(16),
        struct.pack(">HHII", width, height, 0x480000, 0x480000),  # 72 dpi
        bytes(4),
        struct.pack(">H", 1),  # frame_count
        bytes(32),  # compressorname
        struct.pack(">Hh", 24, -1),  # depth, pre_defined
        avcc,
    )


def mp4a(sample_rate: int, channels: int, config: bytes, bitrate: int) -> bytes:
    """Return an ``mp4a`` sample entry for AAC with AudioSpecificConfig `config`."""

    def descriptor(tag: int, body: bytes) -> bytes:
        return bytes([tag, len(body)]) + body  # every body here is under 128 bytes

    decoder = descriptor(
        4,
        bytes([0x40, 0x15])  # MPEG-4 audio, an audio stream
        + struct.pack(">I", 6144)[1:]  # bufferSizeDB, 24 bits
        + struct.pack(">II", bitrate, bitrate)
        + descriptor(5, config),
    )
    es = descriptor(3, struct.pack(">HB", 1, 0) + decoder + descriptor(6, b"\x02"))
    return box(
        "mp4a",
        bytes(6),
        struct.pack(">H", 1),
        bytes(8),
        struct.pack(">HHHHI", channels, 16, 0, 0, sample_rate << 16),
        full_box("esds", 0, 0, es),
    )


def _runs(values: Sequence[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for value in values:
        if runs and runs[-1][1] == value:
            runs[-1] = (runs[-1][0] + 1, value)
        else:
            runs.append((1, value))
    return runs


def _trak(track: Track, track_id: int, chunk_offset: int) -> bytes:
    total = sum(track.durations)
    movie_duration = total * MOVIE_TIMESCALE // track.timescale
    video = track.kind == "vide"
    tkhd = full_box(
        "tkhd",
        0,
        _FLAGS,
        struct.pack(">IIIII", 0, 0, track_id, 0, movie_duration),
        bytes(8),
        struct.pack(">hhhH", 0, 0 if video else 1, 0 if video else 0x100, 0),
        _MATRIX,
        struct.pack(">II", track.width << 16, track.height << 16),
    )
    mdhd = full_box("mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, track.timescale, total, 0x55C4, 0))
    name = b"VideoHandler\x00" if video else b"SoundHandler\x00"
    hdlr = full_box("hdlr", 0, 0, bytes(4), track.kind.encode(), bytes(12), name)
    header = full_box("vmhd", 0, 1, bytes(8)) if video else full_box("smhd", 0, 0, bytes(4))
    dinf = box("dinf", full_box("dref", 0, 0, struct.pack(">I", 1), full_box("url ", 0, 1)))
    runs = _runs(track.durations)
    stbl = [
        full_box("stsd", 0, 0, struct.pack(">I", 1), track.entry),
        full_box("stts", 0, 0, struct.pack(f">I{2 * len(runs)}I", len(runs), *sum(runs, ()))),
    ]
    if track.sync is not None:
        stbl.append(
            full_box(
                "stss", 0, 0, struct.pack(f">I{len(track.sync)}I", len(track.sync), *track.sync)
            )
        )
    count = len(track.samples)
    stbl += [
        full_box("stsc", 0, 0, struct.pack(">IIII", 1, 1, count, 1)),  # one chunk
        full_box(
            "stsz", 0, 0, struct.pack(f">II{count}I", 0, count, *(len(s) for s in track.samples))
        ),
        full_box("stco", 0, 0, struct.pack(">II", 1, chunk_offset)),
    ]
    minf = box("minf", header, dinf, box("stbl", *stbl))
    return box("trak", tkhd, box("mdia", mdhd, hdlr, minf))


def mux(tracks: Sequence[Track]) -> bytes:
    """Return an MP4 file holding `tracks` (the first a video track), ``moov`` first."""
    ftyp = box("ftyp", b"isom", struct.pack(">I", 512), b"isomiso2avc1mp41")
    duration = max(sum(t.durations) * MOVIE_TIMESCALE // t.timescale for t in tracks)

    def moov(offsets: Sequence[int]) -> bytes:
        mvhd = full_box(
            "mvhd",
            0,
            0,
            struct.pack(">IIII", 0, 0, MOVIE_TIMESCALE, duration),
            struct.pack(">IH", 0x10000, 0x100),  # rate 1.0, volume 1.0
            bytes(10),
            _MATRIX,
            bytes(24),
            struct.pack(">I", len(tracks) + 1),  # next_track_ID
        )
        return box(
            "moov",
            mvhd,
            *(_trak(t, i, o) for i, (t, o) in enumerate(zip(tracks, offsets, strict=True), 1)),
        )

    sizes = [sum(len(s) for s in t.samples) for t in tracks]
    head = len(ftyp) + len(moov([0] * len(tracks))) + 8  # the mdat header
    offsets = [head + sum(sizes[:i]) for i in range(len(tracks))]
    payload = b"".join(s for t in tracks for s in t.samples)
    return ftyp + moov(offsets) + struct.pack(">I4s", 8 + len(payload), b"mdat") + payload
