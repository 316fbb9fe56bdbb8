"""resources/make_icons.py: the committed icon files are complete, and the containers are well formed."""
import importlib.util
from pathlib import Path

import pytest

RESOURCES = Path(__file__).resolve().parents[2] / "resources"


@pytest.fixture(scope="module")
def make_icons():
    spec = importlib.util.spec_from_file_location("make_icons", RESOURCES / "make_icons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_png_size_is_committed_at_its_size(make_icons):
    from PySide6.QtGui import QImage
    for size in make_icons.PNG_SIZES:
        image = QImage(str(RESOURCES / "icons" / make_icons.png_name(size)))
        assert (image.width(), image.height()) == (size, size)
        assert image.hasAlphaChannel()


def test_the_ico_and_icns_hold_every_size(make_icons):
    assert sorted(make_icons.read_ico_sizes((RESOURCES / "descent-lab.ico").read_bytes())) == \
        sorted(make_icons.ICO_SIZES)
    assert make_icons.read_icns_types((RESOURCES / "descent-lab.icns").read_bytes()) == \
        [kind for kind, _ in make_icons.ICNS_TYPES]


def _rgba(image):
    """The image as an (h, w, 4) uint8 array, whatever its stored format."""
    import numpy as np
    from PySide6.QtGui import QImage
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    raw = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    return raw.reshape(image.height(), image.bytesPerLine())[:, :image.width() * 4].reshape(
        image.height(), image.width(), 4).copy()


def test_the_svg_renders_what_is_committed(make_icons, qapp):
    """Edit the SVG, forget to run make_icons.py: this fails. Compared as pixels with a tolerance, since
    another CPU's rasterizer may round an anti-aliased edge pixel one level differently: every channel
    within 8 of 255 levels and the mean difference under 1 level. An edited shape or colour moves far more."""
    import numpy as np
    from PySide6.QtGui import QImage
    for size in (16, 64):
        fresh = _rgba(QImage.fromData(make_icons.render_png(RESOURCES / "descent-lab.svg", size)))
        committed = _rgba(QImage(str(RESOURCES / "icons" / make_icons.png_name(size))))
        assert fresh.shape == committed.shape == (size, size, 4)
        diff = np.abs(fresh.astype(int) - committed.astype(int))
        assert diff.max() <= 8 and diff.mean() < 1.0, (size, int(diff.max()), float(diff.mean()))


def test_the_tolerance_still_sees_an_edit(make_icons, qapp):
    """The comparison above is not blind: a committed icon against another size's, scaled, fails it."""
    import numpy as np
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage
    committed = _rgba(QImage(str(RESOURCES / "icons" / make_icons.png_name(64))))
    other = _rgba(QImage(str(RESOURCES / "icons" / make_icons.png_name(16))).scaled(
        64, 64, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.FastTransformation))
    diff = np.abs(other.astype(int) - committed.astype(int))
    assert not (diff.max() <= 8 and diff.mean() < 1.0)


def test_ico_and_icns_writers_round_trip(make_icons):
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 20
    assert make_icons.read_ico_sizes(make_icons.ico_bytes({16: png, 256: png})) == [16, 256]
    pngs = {size: png for _, size in make_icons.ICNS_TYPES}
    assert make_icons.read_icns_types(make_icons.icns_bytes(pngs))[0] == "icp4"
    with pytest.raises(ValueError):
        make_icons.read_icns_types(b"icns\0\0\0\x20")
