"""Render resources/descent-lab.svg into the icon files each platform wants.

    .venv/bin/python resources/make_icons.py

writes, beside this script:

* ``icons/descent-lab-N.png`` for N in 16 .. 512: the window icon (Qt picks the nearest size) and
  the Linux desktop's hicolor theme (the installer copies them to ``icons/hicolor/NxN/apps``);
* ``descent-lab.ico``: Windows, for the .exe and the installer (PNG-compressed entries, which every
  Windows since Vista reads);
* ``descent-lab.icns``: macOS, for the .app (PNG entries up to 1024 px, the ``ic10`` retina size).

Rendering uses Qt's own SVG renderer (PySide6-Essentials has QtSvg), and the .ico and .icns
containers are written here in a few lines of ``struct``, so no image library is needed. The files
are committed; run this again only after editing the SVG.
"""
from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SVG = HERE / "descent-lab.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# The .icns types that hold PNG data, and the pixel size of each (the "@2x" ones are retina).
ICNS_TYPES = (("icp4", 16), ("icp5", 32), ("icp6", 64), ("ic07", 128), ("ic08", 256), ("ic09", 512),
              ("ic10", 1024), ("ic11", 32), ("ic12", 64), ("ic13", 256), ("ic14", 512))


def png_name(size: int) -> str:
    return f"descent-lab-{size}.png"


def render_png(svg: Path, size: int) -> bytes:
    """The SVG drawn into a transparent size x size image, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg}: not a valid SVG")
    image = QImage(size, size, QImage.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.setRenderHint(QPainter.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data)


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """An .ico file: a 6-byte header, one 16-byte directory entry per image, then the PNGs.

    Each entry: width, height (0 means 256), colour count, reserved, planes, bits per pixel,
    data size, data offset (little-endian).
    """
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        data = pngs[size]
        side = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """An .icns file: ``icns`` and the total length, then per image its 4-letter type and length (big-endian)."""
    body = b"".join(kind.encode("ascii") + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
                    for kind, size in ICNS_TYPES)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def read_ico_sizes(data: bytes) -> list[int]:
    """The image sizes an .ico file declares (for the tests)."""
    reserved, kind, count = struct.unpack_from("<HHH", data, 0)
    if reserved != 0 or kind != 1:
        raise ValueError("not an .ico file")
    sizes = []
    for i in range(count):
        width, *_rest, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * i)
        if offset + length > len(data) or data[offset:offset + 8] != b"\x89PNG\r\n\x1a\n":
            raise ValueError(f"entry {i} is not a PNG inside the file")
        sizes.append(width or 256)
    return sizes


def read_icns_types(data: bytes) -> list[str]:
    """The entry types an .icns file holds (for the tests)."""
    if data[:4] != b"icns" or struct.unpack_from(">I", data, 4)[0] != len(data):
        raise ValueError("not an .icns file")
    kinds, at = [], 8
    while at < len(data):
        kind, length = data[at:at + 4].decode("ascii"), struct.unpack_from(">I", data, at + 4)[0]
        kinds.append(kind)
        at += length
    if at != len(data):
        raise ValueError("an .icns entry runs past the end of the file")
    return kinds


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841  (Qt wants one for painting)
    sizes = sorted(set(PNG_SIZES) | set(ICO_SIZES) | {size for _, size in ICNS_TYPES})
    pngs = {size: render_png(SVG, size) for size in sizes}
    (HERE / "icons").mkdir(exist_ok=True)
    for size in PNG_SIZES:
        (HERE / "icons" / png_name(size)).write_bytes(pngs[size])
    (HERE / "descent-lab.ico").write_bytes(ico_bytes({size: pngs[size] for size in ICO_SIZES}))
    (HERE / "descent-lab.icns").write_bytes(icns_bytes(pngs))
    print(f"wrote {len(PNG_SIZES)} PNGs, descent-lab.ico, descent-lab.icns in {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
