"""Just enough H.264 to make a still video of any length without an encoder.

A result video is one pre-encoded intra picture (an IDR access unit: SPS, PPS and slice, made
at build time by ``fixtures/make_videos.py``) followed by P pictures in which every macroblock
is skipped (``P_Skip``: copy the picture before). A skipped picture is a slice header and one
number, ``mb_skip_run``, a few bytes at any frame size, so this module writes them here: it
reads the few fields of the SPS and PPS a slice header depends on (ITU-T H.264 7.3.2.1, 7.3.2.2)
and writes the slice (7.3.3, 7.3.4) with CAVLC, the only entropy coder a skip run needs
without an arithmetic coder. Pictures are reference pictures whose ``frame_num`` counts up
(modulo ``MaxFrameNum``), so the picture order follows the decoding order for every
``pic_order_cnt_type`` the build makes (0 or 2).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

NAL_SLICE, NAL_IDR, NAL_SPS, NAL_PPS = 1, 5, 7, 8
_START = re.compile(b"\x00\x00\x01")
_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}
_P_ALL = 5  # slice_type: P, and every slice of the picture is P


class _Bits:
    """An Exp-Golomb bit reader over an RBSP (emulation prevention removed)."""

    def __init__(self, rbsp: bytes) -> None:
        self.data, self.pos = rbsp, 0

    def u(self, n: int) -> int:
        value = 0
        for _ in range(n):
            if self.pos >= 8 * len(self.data):
                raise ValueError("H.264: parameter set ends early")
            value = (value << 1) | (self.data[self.pos >> 3] >> (7 - (self.pos & 7)) & 1)
            self.pos += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("H.264: bad Exp-Golomb code")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k % 2 else -(k // 2)


class _Writer:
    """An Exp-Golomb bit writer."""

    def __init__(self) -> None:
        self.bits: list[str] = []

    def u(self, n: int, value: int) -> None:
        if n:
            self.bits.append(format(value, f"0{n}b"))

    def ue(self, value: int) -> None:
        code = format(value + 1, "b")
        self.bits.append("0" * (len(code) - 1) + code)

    def rbsp(self) -> bytes:
        """Return the bits with ``rbsp_trailing_bits`` (a 1, then 0s to a byte boundary)."""
        text = "".join(self.bits) + "1"
        text += "0" * (-len(text) % 8)
        return int(text, 2).to_bytes(len(text) // 8, "big")


def nal_units(annexb: bytes) -> list[bytes]:
    """Split an Annex B byte stream into its NAL units (start codes and trailing zeros cut)."""
    found = list(_START.finditer(annexb))
    starts = [m.end() for m in found]
    ends = [*(m.start() for m in found[1:]), len(annexb)]
    return [annexb[s:e].rstrip(b"\x00") for s, e in zip(starts, ends, strict=True)]


def unescape(nal: bytes) -> bytes:
    """Return a NAL unit's RBSP: its header byte cut, emulation prevention bytes removed."""
    return nal[1:].replace(b"\x00\x00\x03", b"\x00\x00")


def escape(rbsp: bytes) -> bytes:
    """Insert emulation prevention bytes (00 00 0x with x <= 3 becomes 00 00 03 0x)."""
    out, zeros = bytearray(), 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


@dataclass(frozen=True)
class Stream:
    """What a skipped picture's slice depends on, read from the SPS and PPS; and the size."""

    width: int
    height: int
    mbs: int  # macroblocks in a picture
    log2_max_frame_num: int
    poc_type: int
    log2_max_poc_lsb: int
    frame_mbs_only: bool
    pps_id: int
    cabac: bool
    bottom_field_poc: bool
    weighted_pred: bool
    deblocking_control: bool
    redundant_pic_cnt: bool
    chroma: bool


def read_stream(sps: bytes, pps: bytes) -> Stream:
    """Read the SPS and PPS NAL units of a stream (H.264 7.3.2.1.1, 7.3.2.2)."""
    r = _Bits(unescape(sps))
    profile = r.u(8)
    r.u(16)  # constraint flags, reserved bits, level_idc
    r.ue()  # seq_parameter_set_id
    chroma_format = 1
    if profile in _HIGH_PROFILES:
        chroma_format = r.ue()
        if chroma_format == 3:
            r.u(1)  # separate_colour_plane_flag (not made by the build)
        r.ue(), r.ue(), r.u(1)  # bit depths, qpprime_y_zero_transform_bypass_flag
        if r.u(1):  # seq_scaling_matrix_present_flag
            raise ValueError("H.264: scaling matrices are not supported")
    log2_max_frame_num = r.ue() + 4
    poc_type, log2_max_poc_lsb = r.ue(), 0
    if poc_type == 0:
        log2_max_poc_lsb = r.ue() + 4
    elif poc_type == 1:
        raise ValueError("H.264: pic_order_cnt_type 1 is not supported")
    r.ue(), r.u(1)  # max_num_ref_frames, gaps_in_frame_num_value_allowed_flag
    width_mbs, height_units = r.ue() + 1, r.ue() + 1
    frame_mbs_only = bool(r.u(1))
    if not frame_mbs_only:
        r.u(1)  # mb_adaptive_frame_field_flag
    r.u(1)  # direct_8x8_inference_flag
    height_mbs = height_units * (1 if frame_mbs_only else 2)
    width, height = 16 * width_mbs, 16 * height_mbs
    if r.u(1):  # frame_cropping_flag, in units of 2 luma samples for 4:2:0
        left, right, top, bottom = r.ue(), r.ue(), r.ue(), r.ue()
        unit_y = 2 * (2 - frame_mbs_only) if chroma_format == 1 else 2 - frame_mbs_only
        width -= 2 * (left + right) if chroma_format in (1, 2) else left + right
        height -= unit_y * (top + bottom)
    p = _Bits(unescape(pps))
    pps_id = p.ue()
    p.ue()  # seq_parameter_set_id
    cabac, bottom_field_poc = bool(p.u(1)), bool(p.u(1))
    if p.ue():  # num_slice_groups_minus1
        raise ValueError("H.264: slice groups are not supported")
    p.ue(), p.ue()  # num_ref_idx_l0/l1_default_active_minus1 (the slice overrides l0)
    weighted_pred = bool(p.u(1))
    p.u(2), p.se(), p.se(), p.se()  # weighted_bipred_idc, QP inits, chroma_qp_index_offset
    deblocking_control = bool(p.u(1))
    p.u(1)  # constrained_intra_pred_flag
    redundant_pic_cnt = bool(p.u(1))
    return Stream(
        width=width,
        height=height,
        mbs=width_mbs * height_mbs,
        log2_max_frame_num=log2_max_frame_num,
        poc_type=poc_type,
        log2_max_poc_lsb=log2_max_poc_lsb,
        frame_mbs_only=frame_mbs_only,
        pps_id=pps_id,
        cabac=cabac,
        bottom_field_poc=bottom_field_poc,
        weighted_pred=weighted_pred,
        deblocking_control=deblocking_control,
        redundant_pic_cnt=redundant_pic_cnt,
        chroma=chroma_format != 0,
    )


@functools.lru_cache(maxsize=512)
def skipped_picture(stream: Stream, n: int) -> bytes:
    """Return the NAL unit of picture `n` (1.. after an IDR picture, 0): a P slice whose
    macroblocks are all skipped, a reference picture (so ``frame_num`` is n mod MaxFrameNum)."""
    if stream.cabac:
        raise ValueError("H.264: a CABAC stream needs an arithmetic coder; build with CAVLC")
    w = _Writer()
    w.ue(0)  # first_mb_in_slice
    w.ue(_P_ALL)
    w.ue(stream.pps_id)
    w.u(stream.log2_max_frame_num, n % (1 << stream.log2_max_frame_num))
    if not stream.frame_mbs_only:
        w.u(1, 0)  # field_pic_flag: a frame
    if stream.poc_type == 0:
        w.u(stream.log2_max_poc_lsb, 2 * n % (1 << stream.log2_max_poc_lsb))
        if stream.bottom_field_poc:
            w.ue(0)  # delta_pic_order_cnt_bottom, se(0)
    if stream.redundant_pic_cnt:
        w.ue(0)
    w.u(1, 1)  # num_ref_idx_active_override_flag: one reference, the picture before
    w.ue(0)  # num_ref_idx_l0_active_minus1
    w.u(1, 0)  # ref_pic_list_modification_flag_l0
    if stream.weighted_pred:  # pred_weight_table: no weights
        w.ue(0)  # luma_log2_weight_denom
        if stream.chroma:
            w.ue(0)  # chroma_log2_weight_denom
        w.u(2 if stream.chroma else 1, 0)  # luma (and chroma) weight flags of the reference
    w.u(1, 0)  # dec_ref_pic_marking: adaptive_ref_pic_marking_mode_flag, a sliding window
    w.ue(0)  # slice_qp_delta, se(0)
    if stream.deblocking_control:
        w.ue(1)  # disable_deblocking_filter_idc: nothing to filter in a copy
    w.ue(stream.mbs)  # slice_data: mb_skip_run over the whole picture
    return bytes([0x40 | NAL_SLICE]) + escape(w.rbsp())  # nal_ref_idc 2
