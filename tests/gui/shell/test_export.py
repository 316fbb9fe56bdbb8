"""What an exported SVG holds, read back from the file: each boundary point in its class's colour where
its data puts it on the file's own axes, the boundary image over exactly its grid and the right way up,
tick labels and legends as text, nothing a reader draws its own way (ImageMagick 6 ignores
``vector-effect`` and the opacities, and draws nothing under a ``clipPath``), and the Weights plots
on their data though that tab was never opened."""
from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from types import SimpleNamespace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
import torch
from PySide6.QtCore import QByteArray
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from engine.config import DataConfig, DataKind, Experiment, TrainConfig
from engine.training.updates import Boundary
from gui.shell import export, svg_export
from gui.shell.svg_export import clip_segment
from gui.style.palette import BOUNDARY_BACKGROUND, CLASS_COLORS, POINT_OUTLINE
from gui.training.boundary import BLEND, BoundaryView

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}href"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")
# What a reader may draw its own way: ImageMagick 6 ignores the opacities and vector-effect, strokes a
# shape that does not say stroke="none", draws nothing under a clip-path and turns rotated text the wrong way.
FORBIDDEN = ("vector-effect", "clip-path", "transform", "opacity", "fill-opacity", "stroke-opacity", "style")


# -- reading an SVG back ----------------------------------------------------------------------------

def parse(path) -> ET.Element:
    return ET.parse(path).getroot()


def texts(root) -> list[dict]:
    return [dict(el.attrib, text=el.text or "") for el in root.iter(f"{SVG}text")]


def all_text(root) -> str:
    """Every word a reader of the file sees or a tool finds: the texts, and a turned label's title."""
    words = [t["text"] for t in texts(root)] + [el.text or "" for el in root.iter(f"{SVG}title")]
    return " ".join(words).replace("\xa0", " ")


def ticks(root, anchor: str) -> list[tuple[float, float]]:
    """(value, pixel) of each numeric tick label: the bottom axis's are centred on their tick
    (anchor middle, at x), the left axis's end at it, their middle a third of the size above the baseline."""
    out = []
    for t in texts(root):
        if t.get("text-anchor") != anchor or not re.fullmatch(r"-?\d+(\.\d+)?", t["text"].strip()):
            continue
        if anchor == "middle":
            out.append((float(t["text"]), float(t["x"])))
        else:
            out.append((float(t["text"]), float(t["y"]) - float(t["font-size"]) / 3))
    return out


def axis_map(root, anchor: str) -> tuple[float, float]:
    """pixel = a * value + b, fitted to the axis's tick labels (at least two of them)."""
    pairs = ticks(root, anchor)
    assert len(pairs) >= 2, pairs
    values, pixels = np.array(pairs).T
    a, b = np.polyfit(values, pixels, 1)
    assert np.max(np.abs(a * values + b - pixels)) < 0.6     # the labels themselves sit on one line
    return a, b


def path_box(d: str) -> tuple[float, float, float, float]:
    xy = np.array([float(v) for v in NUMBER.findall(d)]).reshape(-1, 2)
    return xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max()


def embedded_image(el) -> QImage:
    data = el.attrib[XLINK].split(",", 1)[1]
    image = QImage()
    assert image.loadFromData(QByteArray(base64.b64decode(data)), "PNG")
    return image


def rgb(color: QColor) -> np.ndarray:
    return np.array(color.getRgb()[:3], np.float64)


def tint(class_index: int) -> np.ndarray:
    """A fully confident region's colour (``gui.training.boundary``'s blend)."""
    bg = rgb(QColor(BOUNDARY_BACKGROUND))
    return bg + BLEND * (rgb(QColor(CLASS_COLORS[class_index])) - bg)


def qt_render(path) -> QImage:
    renderer = QSvgRenderer(str(path))
    assert renderer.isValid()
    image = QImage(renderer.defaultSize(), QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return image


# -- a boundary with points and regions we know -----------------------------------------------------

POINTS = np.array([[-1.2, 0.9], [0.8, 1.1], [-0.9, -0.8], [-0.3, -1.1], [0.7, -0.9], [1.1, -0.4]], np.float32)
LABELS = np.array([0, 0, 1, 1, 2, 2])


def known_split():
    from engine.data.datasets import DataSplit
    x, y = torch.tensor(POINTS), torch.tensor(LABELS)
    return DataSplit(name="three", kind=DataKind.PLANE, x_train=x, y_train=y, x_val=x[:1], y_val=y[:1],
                     n_classes=3, input_shape=(2,), extent=(-1.5, 1.5, -1.5, 1.5),
                     class_names=("top", "left", "right"))


def known_boundary(grid: int = 24) -> Boundary:
    """Class 0 above y = 0.3, below it class 1 on the left and class 2 on the right; all certain."""
    xs = np.linspace(-1.5, 1.5, grid)
    ys = np.linspace(-1.5, 1.5, grid)
    gx, gy = np.meshgrid(xs, ys)             # [j, i] at (xs[i], ys[j]), as Boundary.probs
    winner = np.where(gy > 0.3, 0, np.where(gx < 0, 1, 2))
    return Boundary(step=7, xs=xs, ys=ys, probs=np.eye(3, dtype=np.float32)[winner])


@pytest.fixture
def boundary_svg(qtbot, tmp_path):
    view = BoundaryView()
    qtbot.addWidget(view)
    view.resize(520, 560)
    view.show()
    view.set_data("a", known_split())
    view.show_boundary("a", known_boundary())
    QApplication.processEvents()
    tab = SimpleNamespace(boundary=view, plots=SimpleNamespace(plot_widgets=dict), flush_drawing=lambda: None)
    path = tmp_path / "boundary.svg"
    export.export_plot(tab, "boundary", path)
    return path, view


def test_each_boundary_point_is_drawn_in_its_class_colour_where_the_files_axes_put_it(boundary_svg):
    path, _ = boundary_svg
    root = parse(path)
    ax, bx = axis_map(root, "middle")
    ay, by = axis_map(root, "end")
    assert ax > 0 and ay < 0                 # x grows to the right, y upwards
    classes = {c.lower(): k for k, c in enumerate(CLASS_COLORS)}
    drawn = []
    for el in root.iter(f"{SVG}path"):
        if el.get("stroke", "").lower() == POINT_OUTLINE.lower() and el.get("fill", "").lower() in classes:
            x0, y0, x1, y1 = path_box(el.get("d"))
            drawn.append(((x0 + x1) / 2, (y0 + y1) / 2, classes[el.get("fill").lower()]))
    assert len(drawn) == len(POINTS)         # one path per point: not a pixmap atlas per point
    for (x, y), label in zip(POINTS, LABELS, strict=True):
        px, py = ax * x + bx, ay * y + by
        nearest = min(drawn, key=lambda p: (p[0] - px) ** 2 + (p[1] - py) ** 2)
        assert abs(nearest[0] - px) < 1.0 and abs(nearest[1] - py) < 1.0, (x, y, nearest, px, py)
        assert nearest[2] == label


def test_the_boundary_image_covers_its_grid_on_the_files_axes_the_right_way_up(boundary_svg):
    path, view = boundary_svg
    root = parse(path)
    ax, bx = axis_map(root, "middle")
    ay, by = axis_map(root, "end")
    (image_el,) = root.iter(f"{SVG}image")
    (vx0, vx1), (vy0, vy1) = view.plot_widget().getPlotItem().viewRange()
    x, y = float(image_el.get("x")), float(image_el.get("y"))
    w, h = float(image_el.get("width")), float(image_el.get("height"))
    b = known_boundary()
    half = (b.xs[1] - b.xs[0]) / 2           # grid values are pixel centres
    # the image spans the grid (cut to what the view shows) in the axes' pixels
    left, right = max(b.xs[0] - half, vx0), min(b.xs[-1] + half, vx1)
    bottom, top = max(b.ys[0] - half, vy0), min(b.ys[-1] + half, vy1)
    assert abs(x - (ax * left + bx)) < 1.5 and abs(x + w - (ax * right + bx)) < 1.5
    assert abs(y - (ay * top + by)) < 1.5 and abs(y + h - (ay * bottom + by)) < 1.5
    image = embedded_image(image_el)
    corners = {(0.02, 0.02): 0, (0.02, 0.98): 1, (0.98, 0.98): 2}   # (x, y) fractions from the top left
    for (fx, fy), label in corners.items():
        pixel = rgb(image.pixelColor(int(fx * (image.width() - 1)), int(fy * (image.height() - 1))))
        assert np.max(np.abs(pixel - tint(label))) < 3, (fx, fy, pixel, tint(label))


def test_the_boundary_file_carries_its_key_and_qt_draws_it_as_the_file_says(boundary_svg):
    path, view = boundary_svg
    root = parse(path)
    words = all_text(root)
    for name in ("three", "top", "left", "right", "filled: train", "pale: unsure", "step 7"):
        assert name in words, (name, words)
    assert not view._export_row.isVisible()        # the row is the file's; the window's key stays below
    ax, bx = axis_map(root, "middle")
    ay, by = axis_map(root, "end")
    image = qt_render(path)
    for (x, y), label in zip(POINTS, LABELS, strict=True):
        pixel = rgb(image.pixelColor(round(ax * x + bx), round(ay * y + by)))
        assert np.max(np.abs(pixel - rgb(QColor(CLASS_COLORS[label])))) < 40, (x, y, pixel)


def assert_every_reader_draws_it_alike(root) -> None:
    for el in root.iter():
        bad = [a for a in FORBIDDEN if a in el.attrib]
        assert not bad, (el.tag, bad)
        if el.tag in (f"{SVG}path", f"{SVG}rect", f"{SVG}text"):
            assert "fill" in el.attrib and "stroke" in el.attrib, (el.tag, el.attrib)
    assert not list(root.iter(f"{SVG}clipPath")) and not list(root.iter(f"{SVG}tspan"))


def written(widget, path) -> ET.Element:
    """``widget`` exported as the SVG file ``path`` and parsed, after checking every reader draws it alike."""
    export.write_plot(widget, path.stem, path)
    root = parse(path)
    assert_every_reader_draws_it_alike(root)
    return root


def test_a_curve_is_cut_to_its_view_in_the_file_not_by_a_clip_path(qtbot, tmp_path):
    import pyqtgraph as pg
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(400, 300)
    widget.show()
    x = np.arange(100.0)
    widget.plot(x, (x - 40) / 40, pen=pg.mkPen("#0072B2", width=2))        # runs on beyond both sides
    widget.setRange(xRange=(20, 60), yRange=(-1, 1), padding=0)
    QApplication.processEvents()
    path = tmp_path / "cut.svg"
    root = written(widget, path)
    view = widget.getPlotItem().getViewBox()
    box = view.mapRectToScene(view.boundingRect())
    (curve,) = [el for el in root.iter(f"{SVG}path") if el.get("stroke", "").lower() == "#0072b2"]
    x0, y0, x1, y1 = path_box(curve.get("d"))
    assert box.left() - 0.01 <= x0 and x1 <= box.right() + 0.01
    assert box.top() - 0.01 <= y0 and y1 <= box.bottom() + 0.01
    assert abs(x0 - box.left()) < 0.01 and abs(x1 - box.right()) < 0.01     # cut at the edges, not dropped


def test_a_segment_is_cut_to_the_rectangle_it_crosses():
    from PySide6.QtCore import QRectF
    r = QRectF(0, 0, 10, 10)
    assert clip_segment(-5, 5, 15, 5, r) == (0, 5, 10, 5)
    assert clip_segment(2, 2, 4, 4, r) == (2, 2, 4, 4)
    assert clip_segment(-5, -5, -1, 20, r) is None
    x0, y0, x1, y1 = clip_segment(-10, -10, 20, 20, r)
    assert (x0, y0) == (0, 0) and (x1, y1) == (10, 10)


def test_every_exported_plot_has_text_ticks_its_legend_and_nothing_a_reader_draws_its_own_way(
        qtbot, tmp_path, lab_window):
    """Every plot of the Export menu, after a short run: the Weights tab never opened."""
    window = lab_window
    window.clear_runs()
    for name in ("first", "second"):
        window.add_run(Experiment(name=name, data=DataConfig(dataset="spiral"),
                                  train=TrainConfig(steps=40, eval_every=20, histogram_every=10)))
    window.runs_list.select(next(iter(window.runs)))
    assert window.tabs.currentWidget() is not window.histograms
    window.start_action.trigger()
    qtbot.waitUntil(lambda: all(r.status == "finished" for r in window.runs.values()), timeout=60_000)
    names = export.plot_names(window.training_tab)
    assert {k for k, _ in names} >= {"metrics:loss", "metrics:accuracy", "metrics:lr", "metrics:grad_norm",
                                     "weights:histogram", "weights:heatmap", "weights:activations", "weights:steps",
                                     "boundary"}
    for key, _ in names:
        path = tmp_path / f"{key.replace(':', '_')}.svg"
        assert window.export_plot(key, path), key
        root = parse(path)
        assert_every_reader_draws_it_alike(root)
        if key in ("weights:activations", "weights:steps"):     # layer names along x, a log axis up the side
            assert "hidden1" in all_text(root) and ticks(root, "end"), key
        else:
            assert len(ticks(root, "middle")) >= 2 and len(ticks(root, "end")) >= 2, key
        with export.GROUPS[key.partition(":")[0]].exporting(window.training_tab, key.partition(":")[2]) as widget:
            assert svg_export.figure_of(widget)[0].rasterized == [], key     # every item has its vector writer
        words = all_text(root)
        if key.startswith("metrics:"):
            assert "first" in words and "second" in words, (key, words)   # the legend names the runs
        if key == "boundary":
            assert all(f" {c} " in f" {words} " for c in ("0", "1")) and "filled: train" in words
    heat = parse(tmp_path / "weights_heatmap.svg")
    steps = [v for v, _ in ticks(heat, "middle")]
    assert max(steps) >= 20, steps             # on the run's steps, not a never-shown plot's 0..1
    image_el = max(heat.iter(f"{SVG}image"), key=lambda el: float(el.get("width")))   # not the colour bar
    ax, bx = axis_map(heat, "middle")
    left, right = float(image_el.get("x")), float(image_el.get("x")) + float(image_el.get("width"))
    assert (left - bx) / ax < 5 and (right - bx) / ax > 35      # the heat image spans steps 0 to 40


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("convert") is None, reason="ImageMagick's convert is not installed")
def test_imagemagick_draws_the_boundary_points_where_qt_does(boundary_svg, tmp_path):
    """ImageMagick 6's own SVG renderer (machine dependent, so not in the quick suite): each point's
    centre in its class colour, as in Qt's rendering."""
    path, _ = boundary_svg
    png = tmp_path / "boundary_im.png"
    subprocess.run(["convert", str(path), str(png)], check=True, timeout=120)
    image = QImage(str(png))
    root = parse(path)
    ax, bx = axis_map(root, "middle")
    ay, by = axis_map(root, "end")
    assert image.width() == round(float(root.get("width")))
    for (x, y), label in zip(POINTS, LABELS, strict=True):
        pixel = rgb(image.pixelColor(round(ax * x + bx), round(ay * y + by)))
        assert np.max(np.abs(pixel - rgb(QColor(CLASS_COLORS[label])))) < 40, (x, y, pixel)


def test_a_translucent_line_is_flattened_onto_what_it_is_drawn_over(qtbot, tmp_path):
    """ImageMagick 6 ignores stroke-opacity, so the file holds the colour seen: a = 0.5 red over the dark
    look's background, and over a view box's own white background (the boundary's, in every look)."""
    import pyqtgraph as pg
    from PySide6.QtGui import QColor as C
    widget = pg.PlotWidget(background="#14161a")
    qtbot.addWidget(widget)
    widget.resize(300, 200)
    widget.show()
    widget.plot([0, 1], [0, 1], pen=pg.mkPen(C(255, 0, 0, 128), width=2))
    QApplication.processEvents()
    path = tmp_path / "dark.svg"
    export.write_plot(widget, "dark", path)
    a = 128 / 255
    dark = C("#14161a")
    expected = C.fromRgbF(a + (1 - a) * dark.redF(), (1 - a) * dark.greenF(), (1 - a) * dark.blueF()).name()
    strokes = {el.get("stroke") for el in parse(path).iter(f"{SVG}path")}
    assert expected in strokes, (expected, strokes)
    widget.getPlotItem().getViewBox().setBackgroundColor("#ffffff")
    export.write_plot(widget, "white", path)
    assert C.fromRgbF(1.0, 1 - a, 1 - a).name() in {el.get("stroke") for el in parse(path).iter(f"{SVG}path")}


def test_two_seed_bands_are_translucent_images_and_their_overlap_mixes_in_the_file(qtbot, tmp_path):
    """A band is its own PNG with its alpha (flattened, the band drawn last would hide the one under it),
    cut to its view; where two runs' bands overlap, a reader draws both: Qt's rendering of the file there
    is the two colours composited over the page, as on screen."""
    import pyqtgraph as pg

    from gui.style.palette import with_alpha
    from gui.training.plot_bands import BAND_ALPHA, CLEAR_PEN
    widget = pg.PlotWidget()
    widget.setBackground("w")
    qtbot.addWidget(widget)
    widget.resize(400, 300)
    widget.show()
    x = np.linspace(0, 10, 50)
    colours = (QColor("#0072B2"), QColor("#E69F00"))
    for (low, high), colour in zip(((0.0, 2.0), (1.0, 3.0)), colours, strict=True):
        lower = pg.PlotDataItem(x, np.full_like(x, low), pen=CLEAR_PEN)       # as plot_bands draws its edges
        upper = pg.PlotDataItem(x, np.full_like(x, high), pen=CLEAR_PEN)
        fill = pg.FillBetweenItem(lower, upper, brush=pg.mkBrush(with_alpha(colour, BAND_ALPHA)))
        for item in (lower, upper, fill):
            widget.addItem(item)
    widget.setRange(xRange=(2, 8), yRange=(-0.5, 3.5), padding=0)
    QApplication.processEvents()
    path = tmp_path / "bands.svg"
    root = written(widget, path)
    assert svg_export.figure_of(widget)[0].rasterized == []              # a band has its own writer
    images = list(root.iter(f"{SVG}image"))
    assert len(images) == 2
    view = widget.getPlotItem().getViewBox()
    box = view.mapRectToScene(view.boundingRect())
    for el in images:                                                    # cut to the view, not beyond
        assert float(el.get("x")) >= box.left() - 1 and float(el.get("x")) + float(el.get("width")) <= box.right() + 1
        alpha = embedded_image(el).pixelColor(embedded_image(el).width() // 2, 2).alpha()
        assert abs(alpha - BAND_ALPHA) <= 2                              # translucent, as on screen
    image = qt_render(path)
    vb_x = view.mapViewToScene(pg.Point(5, 0)).x()

    def at(y: float) -> np.ndarray:
        return rgb(image.pixelColor(round(vb_x), round(view.mapViewToScene(pg.Point(5, y)).y())))
    a = BAND_ALPHA / 255
    white = np.array([255.0, 255.0, 255.0])
    blue, orange = rgb(colours[0]), rgb(colours[1])
    only_blue = a * blue + (1 - a) * white
    both = a * orange + (1 - a) * only_blue                            # orange over blue over the page
    assert np.max(np.abs(at(0.5) - only_blue)) < 6
    assert np.max(np.abs(at(1.5) - both)) < 6 and np.max(np.abs(both - only_blue)) > 20   # the overlap shows
