"""What an H.264 sequence parameter set says about the picture: its size, profile and level.

Only the fields up to the frame cropping are read (ITU-T H.264 7.3.2.1.1); the VUI is not
needed. Emulation prevention bytes are removed first. A malformed SPS raises `SpsError`.
"""

from __future__ import annotations

from dataclasses import dataclass

HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})
"""Profiles whose SPS carries chroma format, bit depths and scaling matrices."""
MAX_SIDE = 16384  # larger is not a camera picture: the SPS is corrupt


class SpsError(ValueError):
    """The bytes are not a readable sequence parameter set."""


@dataclass(frozen=True, slots=True)
class SpsInfo:
    """The picture an SPS describes."""

    profile_idc: int
    constraint_flags: int
    level_idc: int
    width: int
    height: int


def unescape(nal: bytes) -> bytes:
    """The RBSP of a NAL unit: every 0x000003 emulation prevention byte removed."""
    if b"\x00\x00\x03" not in nal:
        return nal
    out = bytearray()
    zeros = 0
    for byte in nal:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


class _Bits:
    """A big-endian bit reader with Exp-Golomb codes."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def bit(self) -> int:
        byte = self._pos >> 3
        if byte >= len(self._data):
            raise SpsError("the SPS ends early")
        value = (self._data[byte] >> (7 - (self._pos & 7))) & 1
        self._pos += 1
        return value

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            value = (value << 1) | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
            if zeros > 31:
                raise SpsError("an Exp-Golomb code longer than 32 bits")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code & 1 else -(code // 2)


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last, following = 8, 8
    for _ in range(size):
        if following != 0:
            following = (last + bits.se() + 256) % 256
        last = following if following != 0 else last


def _chroma_format(bits: _Bits) -> int:
    """Read the high profiles' extra fields; returns chroma_format_idc."""
    chroma_format = bits.ue()
    if chroma_format > 3:
        raise SpsError("chroma_format_idc out of range")
    if chroma_format == 3:
        bits.bit()  # separate_colour_plane_flag
    bits.ue()  # bit_depth_luma_minus8
    bits.ue()  # bit_depth_chroma_minus8
    bits.bit()  # qpprime_y_zero_transform_bypass_flag
    if bits.bit():  # seq_scaling_matrix_present_flag
        for index in range(8 if chroma_format != 3 else 12):
            if bits.bit():
                _skip_scaling_list(bits, 16 if index < 6 else 64)
    return chroma_format


def _skip_picture_order(bits: _Bits) -> None:
    order_type = bits.ue()
    if order_type == 0:
        bits.ue()  # log2_max_pic_order_cnt_lsb_minus4
    elif order_type == 1:
        bits.bit()
        bits.se()
        bits.se()
        cycle = bits.ue()
        if cycle > 255:
            raise SpsError("num_ref_frames_in_pic_order_cnt_cycle out of range")
        for _ in range(cycle):
            bits.se()
    elif order_type != 2:
        raise SpsError("pic_order_cnt_type out of range")


def parse_sps(nal: bytes) -> SpsInfo:
    """The profile, level and cropped picture size of an SPS NAL unit (header byte included)."""
    if len(nal) < 4 or nal[0] & 0x1F != 7:
        raise SpsError("not an SPS NAL unit")
    rbsp = unescape(nal)
    profile, constraints, level = rbsp[1], rbsp[2], rbsp[3]
    bits = _Bits(rbsp[4:])
    bits.ue()  # seq_parameter_set_id
    chroma_format = _chroma_format(bits) if profile in HIGH_PROFILES else 1
    bits.ue()  # log2_max_frame_num_minus4
    _skip_picture_order(bits)
    bits.ue()  # max_num_ref_frames
    bits.bit()  # gaps_in_frame_num_value_allowed_flag
    width_mbs = bits.ue() + 1
    height_map_units = bits.ue() + 1
    frame_mbs_only = bits.bit()
    if not frame_mbs_only:
        bits.bit()  # mb_adaptive_frame_field_flag
    bits.bit()  # direct_8x8_inference_flag
    width = width_mbs * 16
    height = (2 - frame_mbs_only) * height_map_units * 16
    if bits.bit():  # frame_cropping_flag
        left, right, top, bottom = bits.ue(), bits.ue(), bits.ue(), bits.ue()
        crop_x = 1 if chroma_format in (0, 3) else 2
        crop_y = (1 if chroma_format in (0, 3) or chroma_format == 2 else 2) * (2 - frame_mbs_only)
        width -= (left + right) * crop_x
        height -= (top + bottom) * crop_y
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise SpsError(f"a picture of {width}x{height}")
    return SpsInfo(profile, constraints, level, width, height)
