"""Uploaded logos: PNG, JPEG or WebP, known by their bytes (not their name), small, of sensible dimensions.

SVG is refused: it is a document that can carry scripts and links, not a picture.  What passes is served by
views.logo with the type found here and nosniff, so the browser never guesses.
"""
from __future__ import annotations

import struct

MAX_BYTES = 256 * 1024
MIN_SIDE, MAX_SIDE = 16, 2048
TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
_EXTENSIONS = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "webp": "webp"}


class LogoError(ValueError):
    pass


def check(data: bytes, filename: str = "") -> tuple[str, int, int]:
    """(content type, width, height) of an acceptable logo; raises LogoError saying what is wrong."""
    if not data:
        raise LogoError("the logo file is empty")
    if len(data) > MAX_BYTES:
        raise LogoError(f"the logo is {len(data) // 1024} KiB; at most {MAX_BYTES // 1024} KiB")
    head = data[:512].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg", b"<!doctype", b"<html")) or b"<svg" in head:
        raise LogoError("SVG and other markup are not accepted (they can carry scripts): use PNG, JPEG or WebP")
    kind, width, height = _sniff(data)
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension and _EXTENSIONS.get(extension) != kind:
        raise LogoError(f"the file is named .{extension[:10]} but its content is {kind.upper()}")
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise LogoError(f"the logo is {width}×{height} pixels; each side must be {MIN_SIDE} to {MAX_SIDE}")
    return TYPES[kind], width, height


def _sniff(data: bytes) -> tuple[str, int, int]:
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return "png", width, height
        if data.startswith(b"\xff\xd8\xff"):
            return ("jpeg", *_jpeg_size(data))
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return ("webp", *_webp_size(data))
    except (struct.error, IndexError):
        pass
    raise LogoError("the file is not a PNG, JPEG or WebP image (or it is damaged)")


def _jpeg_size(data: bytes) -> tuple[int, int]:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            raise LogoError("the JPEG file is damaged")
        marker = data[index + 1]
        length = struct.unpack(">H", data[index + 2:index + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a start of frame: the dimensions
            height, width = struct.unpack(">HH", data[index + 5:index + 9])
            return width, height
        index += 2 + length
    raise LogoError("the JPEG file has no image frame")


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    raise LogoError("the WebP file is damaged")
