"""The data a network learns from: toy 2-D planes and small image sets.

One registry, ``DATASETS``, describes every dataset once (name, a sentence for
the student, its kind and class count, which config fields it takes); the form,
the experiment validator and the tests read it, and ``load_data`` turns a
``DataConfig`` plus a seed into a ``DataSplit`` of torch tensors.

Why the 2-D sets matter: with two inputs the whole function the network has
learned can be drawn as a decision boundary, so a student *sees* underfitting,
overfitting and the effect of each optimizer.  They are generated, not loaded,
so noise, class count and size are knobs.  The image sets show the same
effects at a realistic scale.

Determinism: everything random draws from one ``np.random.default_rng(seed)``
in a fixed order, so the same config and seed give the same tensors bit for
bit, on any machine.
"""
from __future__ import annotations

import dataclasses
import functools
import importlib.util
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
import torch

from engine.config import DataConfig, DataKind

PLANE = DataKind.PLANE      # the kinds are defined once, in engine.config; these names stay for readers
IMAGE = DataKind.IMAGE


class DataError(ValueError):
    """A config or a data file that cannot give a dataset.

    The message is one line that starts with the key path of the field to fix
    (``data.path: ...``), so the GUI can put it next to that field and the
    command line can print it as is, without a traceback.
    """

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).splitlines()))


class _Arrays(NamedTuple):
    """What a loader hands back: numpy arrays, labels not yet noised.

    Plane ``x`` is float64 (N, 2); image ``x`` is float32 (N, 1, H, W) in [0, 1].
    """
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


Loader = Callable[[DataConfig, int, np.random.Generator], _Arrays]
"""``(cfg, n_classes, rng) -> _Arrays``: the private half of a registry entry."""


@dataclass(frozen=True)
class DatasetInfo:
    """One dataset, described once.

    ``takes`` names the ``data`` keys its loader reads besides ``dataset``, in
    file order, as ``OptimizerInfo.takes`` does for an optimizer: the form shows
    only those, and a key left out changes nothing (the image sets have no
    input noise).  ``data.classes`` may choose the class count exactly when it
    is taken, and ``data.path`` must name a folder of files exactly when it is.
    """
    name: str
    description: str
    kind: DataKind
    default_classes: int
    takes: tuple[str, ...]
    class_names: tuple[str, ...] | None = None
    _load: Loader | None = field(default=None, repr=False, compare=False)

    @property
    def variable_classes(self) -> bool:
        """Whether ``data.classes`` may choose the class count (spiral arms, gaussian blobs)."""
        return "classes" in self.takes

    @property
    def needs_path(self) -> bool:
        """Whether ``data.path`` must name the folder of the dataset's files."""
        return "path" in self.takes


@dataclass(frozen=True)
class DataSplit:
    """Training and validation tensors, ready for a model.

    Plane ``x`` is float32 (N, 2); image ``x`` is float32 (N, 1, H, W) with pixels
    in [0, 1].  Labels are int64 class indices.  ``extent`` (plane only) is the
    box ``(xmin, xmax, ymin, ymax)`` around every point plus a margin: the
    window of a decision-boundary plot.
    """
    name: str
    kind: DataKind
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    n_classes: int
    input_shape: tuple[int, ...]
    extent: tuple[float, float, float, float] | None
    class_names: tuple[str, ...]


# ---------------------------------------------------------------------------
# 2-D planes
#
# Each shape maps balanced labels to noise-free points on a scale of about
# [-1.5, 1.5]; ``_load_plane`` adds the Gaussian input noise, which is what
# makes neighbouring classes overlap and a perfect fit a sign of memorizing.
# ---------------------------------------------------------------------------

Shape = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]

SPIRAL_TURNS = 1.25  # enough turns that a boundary must wind; few enough that noise 0.1 keeps arms apart
SPIRAL_RADIUS = 1.4
GAUSSIAN_RADIUS = 1.0
GAUSSIAN_SPREAD = 0.15  # blob std before input noise, so noise 0 still gives blobs


def _polar(r: np.ndarray, angle: np.ndarray) -> np.ndarray:
    return np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)


def _spiral(y: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Arm c: r = R t, angle = 2 pi (c / k + turns t), t ~ U[0, 1].

    The arms are rotated copies of one Archimedean spiral, so at every radius
    they alternate: a boundary must wind between them.
    """
    t = rng.random(y.size)
    return _polar(SPIRAL_RADIUS * t, 2 * np.pi * (y / k + SPIRAL_TURNS * t))


def _moons(y: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """scikit-learn's two moons, centred: class 0 the upper arc, class 1 the lower.

    Upper: (cos a, sin a); lower: (1 - cos a, 0.5 - sin a); a ~ U[0, pi];
    then shifted by (-0.5, -0.25) so x spans [-1.5, 1.5] and y [-0.75, 0.75].
    """
    a = rng.uniform(0, np.pi, y.size)
    upper = np.stack([np.cos(a), np.sin(a)], axis=1)
    lower = np.stack([1 - np.cos(a), 0.5 - np.sin(a)], axis=1)
    return np.where((y == 0)[:, None], upper, lower) - np.array([0.5, 0.25])


def _circles(y: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Class 0 on a ring of radius 0.5, class 1 on a ring of radius 1.2 around it."""
    angle = rng.uniform(0, 2 * np.pi, y.size)
    return _polar(np.where(y == 0, 0.5, 1.2), angle)


def _xor(y: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Points uniform in the four squares 0.1 <= |x|, |y| <= 1.4, one square per quadrant.

    Class 0 holds the quadrants where x and y share a sign, class 1 the other
    two: label = [sign(x) != sign(y)], which no single line can compute.
    """
    side = rng.choice([-1.0, 1.0], size=y.size)
    u = rng.uniform(0.1, 1.4, (y.size, 2))
    sign_y = np.where(y == 0, side, -side)
    return u * np.stack([side, sign_y], axis=1)


def _gaussians(y: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Blob c centred at angle pi / 2 + 2 pi c / k on a circle of radius 1 (blob 0 on top), spread 0.15."""
    centres = _polar(np.full(y.size, GAUSSIAN_RADIUS), 2 * np.pi * y / k + np.pi / 2)
    return centres + rng.normal(0.0, GAUSSIAN_SPREAD, (y.size, 2))


def _balanced_labels(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """n labels, each class n // k or n // k + 1 times, in shuffled order."""
    return rng.permutation(np.arange(n, dtype=np.int64) % k)


def _load_plane(shape: Shape, cfg: DataConfig, k: int, rng: np.random.Generator) -> _Arrays:
    """Draw n_train + n_val points together, then split.

    Train and val labels are balanced separately, so both are as even as their
    own counts allow.
    """
    y = np.concatenate([_balanced_labels(cfg.n_train, k, rng), _balanced_labels(cfg.n_val, k, rng)])
    x = shape(y, k, rng) + rng.normal(0.0, cfg.noise, (y.size, 2))
    n = cfg.n_train
    return _Arrays(x[:n], y[:n], x[n:], y[n:])


# ---------------------------------------------------------------------------
# scikit-learn's 8x8 digits
# ---------------------------------------------------------------------------

DIGITS_COUNT = 1797


@functools.lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 digits as read-only (uint8 (N, 8, 8) in 0..16, int64 labels).

    Reads the ``digits.csv.gz`` that scikit-learn ships in its wheel directly:
    importing scikit-learn to call ``load_digits`` costs about a second, the
    file about 20 ms.  If a future scikit-learn moves the file, fall back to
    ``load_digits``; the tests check that both give the same numbers.
    """
    table = None
    spec = importlib.util.find_spec("sklearn")  # locates the package without importing it
    if spec is not None and spec.submodule_search_locations:
        csv = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "digits.csv.gz"
        try:
            table = np.loadtxt(csv, delimiter=",", dtype=np.int64)
        except (OSError, ValueError, EOFError, zlib.error):
            table = None
    if table is None or table.shape != (DIGITS_COUNT, 65):
        from sklearn.datasets import load_digits

        bunch = load_digits()
        table = np.column_stack([bunch.data.astype(np.int64), bunch.target])
    x = table[:, :64].astype(np.uint8).reshape(-1, 8, 8)
    y = table[:, 64].astype(np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def _load_digits(cfg: DataConfig, k: int, rng: np.random.Generator) -> _Arrays:
    """A seeded shuffle of the 1797 digits: the first n_train train, the next n_val validate."""
    if cfg.n_train + cfg.n_val > DIGITS_COUNT:
        raise DataError(f"data.n_train: digits has {DIGITS_COUNT} examples; "
                        f"n_train + n_val = {cfg.n_train + cfg.n_val} is more")
    x, y = _digits_arrays()
    order = rng.permutation(DIGITS_COUNT)
    train, val = order[:cfg.n_train], order[cfg.n_train:cfg.n_train + cfg.n_val]
    pixels = x[:, None].astype(np.float32) / np.float32(16)  # 0..16 -> [0, 1], exact in float
    return _Arrays(pixels[train], y[train], pixels[val], y[val])


# ---------------------------------------------------------------------------
# IDX files (MNIST, Fashion-MNIST)
#
# Format (yann.lecun.com/exdb/mnist): a big-endian header, then raw bytes.
#   magic: 0x00 0x00 <type> <ndim>   type 0x08 = unsigned byte
#   ndim big-endian uint32 sizes      images: count, rows, cols; labels: count
#   prod(sizes) bytes of data
# ---------------------------------------------------------------------------

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "val_images": "t10k-images-idx3-ubyte",
    "val_labels": "t10k-labels-idx1-ubyte",
}
IDX_UBYTE = 0x08
IDX_IMAGES = 0x00000803
IDX_LABELS = 0x00000801
N_IDX_CLASSES = 10


def _find_idx(folder: Path, name: str) -> Path:
    """``folder/name``, or else ``folder/name.gz``."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise DataError(f"data.path: {folder} holds no {name} (nor {name}.gz); "
                    f"expected the four IDX files {', '.join(IDX_FILES.values())}")


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped if it ends in .gz; every failure a DataError."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"data.path: cannot read {path}: {e.strerror or e}") from e
    if path.suffix != ".gz":
        return raw
    try:
        return _inflate_idx(path, raw)
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"data.path: {path} is not a valid gzip file ({e})") from e


MAX_IDX_BYTES = 200_000_000
"""The most an inflated IDX file may hold: 4x the 47 MB of MNIST's training images."""


def _inflate_idx(path: Path, raw: bytes) -> bytes:
    """Gunzip an IDX file no further than its header promises (and :data:`MAX_IDX_BYTES`).

    The header (4 bytes, then 4 per dimension, the last of the 4 bytes giving the count) is inflated
    first; the rest only up to ``header + prod(sizes) + 1`` bytes, so a small ``.gz`` that would inflate
    to gigabytes is refused at the size it claims instead of filling memory.  One byte past the promise
    is read so that :func:`_read_idx` still reports a file holding more than its header says.
    """
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)      # 16+: the gzip wrapper
    out = inflater.decompress(raw, 4)
    if len(out) == 4:
        header = 4 + 4 * out[3]
        out += inflater.decompress(inflater.unconsumed_tail, header - 4)
        if len(out) == header:
            promised = header + math.prod(int(d) for d in np.frombuffer(out, ">u4", offset=4))
            if promised > MAX_IDX_BYTES:
                raise DataError(f"data.path: {path} would inflate to {promised:,} bytes, more than the "
                                f"{MAX_IDX_BYTES:,} an IDX file may hold")
            out += inflater.decompress(inflater.unconsumed_tail, promised + 1 - header)
            if len(out) > promised:
                return out
    if not inflater.eof:
        raise EOFError("compressed file ended before the end-of-stream marker was reached")
    return out


def _read_idx(path: Path, magic: int) -> np.ndarray:
    """Parse one IDX file of unsigned bytes into a uint8 array of its header's shape.

    Checks, in the order a broken file would fail them: the magic number
    (``magic`` is 0x803 for images, 0x801 for labels), the header's length,
    and that the data holds exactly the bytes the header promises.
    """
    raw = _read_bytes(path)
    what = "images" if magic == IDX_IMAGES else "labels"
    ndim = magic & 0xFF
    if len(raw) < 4:
        raise DataError(f"data.path: {path} is truncated: {len(raw)} bytes, too short for an IDX header")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        if raw[0] or raw[1]:
            reason = "does not start with an IDX magic number"
        elif raw[2] != IDX_UBYTE:
            reason = f"holds data of type 0x{raw[2]:02X}, not unsigned bytes (0x08)"
        else:
            reason = f"has {raw[3]} dimensions where IDX {what} have {ndim}"
        raise DataError(f"data.path: {path} is not an IDX {what} file: {reason} "
                        f"(magic number 0x{found:08X}, expected 0x{magic:08X})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"data.path: {path} is truncated: {len(raw)} bytes, "
                        f"shorter than its {header}-byte IDX header")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    if what == "images" and (dims[1] == 0 or dims[2] == 0):
        raise DataError(f"data.path: {path} is corrupt: header says images of {dims[1]}x{dims[2]} pixels")
    expected = math.prod(dims)
    held = len(raw) - header
    unit = "pixels" if what == "images" else "labels"
    promise = (f"{dims[0]} images of {dims[1]}x{dims[2]}" if what == "images" else f"{dims[0]} labels")
    if held < expected:
        raise DataError(f"data.path: {path} is truncated: header says {promise}, "
                        f"file holds {held} bytes of {unit}")
    if held > expected:
        raise DataError(f"data.path: {path} is corrupt: header says {promise} ({expected} bytes), "
                        f"file holds {held} bytes of {unit}")
    return np.frombuffer(raw, np.uint8, count=expected, offset=header).reshape(dims)


def _read_idx_pair(folder: Path, images_name: str, labels_name: str) -> tuple[np.ndarray, np.ndarray, Path]:
    """Images and labels of one half (train or t10k), checked against each other."""
    images_path, labels_path = _find_idx(folder, images_name), _find_idx(folder, labels_name)
    images, labels = _read_idx(images_path, IDX_IMAGES), _read_idx(labels_path, IDX_LABELS)
    if len(images) != len(labels):
        raise DataError(f"data.path: {images_path} holds {len(images)} images but "
                        f"{labels_path} holds {len(labels)} labels")
    bad = np.flatnonzero(labels >= N_IDX_CLASSES)
    if bad.size:
        raise DataError(f"data.path: {labels_path} has label {labels[bad[0]]} at index {bad[0]}; "
                        f"labels must be 0..{N_IDX_CLASSES - 1}")
    return images, labels, images_path


def _load_idx(name: str, cfg: DataConfig, k: int, rng: np.random.Generator) -> _Arrays:
    """Train: a seeded subset of the train files; val: a seeded subset of the t10k files.

    The two halves are disjoint by construction (MNIST's own split), and only
    the chosen subset is converted to float, so loading stays cheap.
    """
    if cfg.path is None:
        raise DataError(f"data.path: {name} needs the folder holding its IDX files "
                        f"({', '.join(IDX_FILES.values())}, each optionally .gz)")
    folder = Path(cfg.path).expanduser()
    if not folder.exists():
        raise DataError(f"data.path: {folder} does not exist; expected a folder holding "
                        f"{', '.join(IDX_FILES.values())}")
    if not folder.is_dir():
        raise DataError(f"data.path: {folder} is a file, not a folder; expected a folder holding "
                        f"{', '.join(IDX_FILES.values())}")
    x_tr, y_tr, tr_path = _read_idx_pair(folder, IDX_FILES["train_images"], IDX_FILES["train_labels"])
    x_va, y_va, va_path = _read_idx_pair(folder, IDX_FILES["val_images"], IDX_FILES["val_labels"])
    if x_tr.shape[1:] != x_va.shape[1:]:
        raise DataError(f"data.path: {tr_path} holds images of {x_tr.shape[1]}x{x_tr.shape[2]} but "
                        f"{va_path} holds images of {x_va.shape[1]}x{x_va.shape[2]}")
    for key, n, images, path in (("n_train", cfg.n_train, x_tr, tr_path), ("n_val", cfg.n_val, x_va, va_path)):
        if n > len(images):
            raise DataError(f"data.{key}: {path} holds {len(images)} images; {key} = {n} is more")
    train = rng.choice(len(x_tr), cfg.n_train, replace=False)
    val = rng.choice(len(x_va), cfg.n_val, replace=False)

    def pixels(images: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return images[idx, None].astype(np.float32) / np.float32(255)

    return _Arrays(pixels(x_tr, train), y_tr[train].astype(np.int64),
                   pixels(x_va, val), y_va[val].astype(np.int64))


# ---------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


# The ``data`` keys every loader reads: the sizes of the two halves, and the training labels' noise.
SPLIT_KEYS = ("n_train", "n_val", "label_noise")


def _plane(name: str, description: str, shape: Shape, classes: int, *, variable: bool = False,
           class_names: tuple[str, ...] | None = None) -> DatasetInfo:
    takes = ("n_train", "n_val", "noise", "label_noise") + (("classes",) if variable else ()) + ("seed",)
    return DatasetInfo(name, description, DataKind.PLANE, classes, takes, class_names,
                       functools.partial(_load_plane, shape))


def _idx(name: str, description: str, class_names: tuple[str, ...] | None = None) -> DatasetInfo:
    return DatasetInfo(name, description, DataKind.IMAGE, N_IDX_CLASSES, (*SPLIT_KEYS, "path", "seed"), class_names,
                       functools.partial(_load_idx, name))


DATASETS: dict[str, DatasetInfo] = {info.name: info for info in (
    _plane("spiral", "Interleaved spiral arms, one per class: no straight line separates them, so the "
           "network must wind its boundary between the arms. The classic hard toy; more arms, harder.",
           _spiral, 2, variable=True),
    _plane("moons", "Two interlocking half circles: a gentle curve separates them. A small network "
           "solves it quickly, a linear model cannot.", _moons, 2),
    _plane("circles", "A disc of one class inside a ring of the other: the boundary must close on "
           "itself, which no linear model can draw.", _circles, 2, class_names=("inner", "outer")),
    _plane("xor", "Four quadrant blobs where opposite corners share a class: the XOR problem a "
           "single-layer perceptron cannot learn and one hidden layer can.", _xor, 2),
    _plane("gaussians", "Round blobs around a circle, one per class: almost linearly separable, the "
           "easy baseline; input noise makes neighbouring blobs overlap.", _gaussians, 3, variable=True),
    DatasetInfo("digits", "1,797 real handwritten digits of 8x8 pixels, shipped with scikit-learn: a "
                "small image task that trains in seconds on a CPU.", DataKind.IMAGE, 10, (*SPLIT_KEYS, "seed"), None,
                _load_digits),
    _idx("mnist", "70,000 handwritten digits of 28x28 pixels, from IDX files you download: the "
         "classic benchmark, where an MLP and a CNN can be compared."),
    _idx("fashion-mnist", "Zalando's 28x28 grey photos of clothing in 10 classes, a harder drop-in for "
         "MNIST: shirts, coats and pullovers are easily confused.", FASHION_CLASSES),
)}


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------

def _check_fields(cfg: DataConfig) -> None:
    """Run the range checks that config.py attaches to each field.

    The experiment validator runs them too; repeating them here (from the same
    table, not a copy) keeps ``load_data`` safe when called straight from
    Python with a hand-built config.
    """
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if value is None:
            continue
        for check in f.metadata.get("checks", ()):
            problem = check.check(value)
            if problem:
                raise DataError(f"data.{f.name}: {problem} (got {value!r})")


def _add_label_noise(y: np.ndarray, fraction: float, k: int, rng: np.random.Generator) -> np.ndarray:
    """Replace exactly round(fraction * n) labels, each by a different class drawn uniformly.

    Adding an offset in 1..k-1 modulo k picks uniformly among the k - 1 wrong
    classes, and can never give back the true one.
    """
    n_flip = round(fraction * y.size)
    if n_flip == 0:
        return y
    idx = rng.choice(y.size, n_flip, replace=False)
    y = y.copy()
    y[idx] = (y[idx] + rng.integers(1, k, n_flip)) % k
    return y


def _extent(x: np.ndarray) -> tuple[float, float, float, float]:
    """Bounding box of the points, widened by 10% of its longer side on every edge."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    margin = max(0.1 * float((hi - lo).max()), 0.1)
    return (float(lo[0] - margin), float(hi[0] + margin), float(lo[1] - margin), float(hi[1] + margin))


def load_data(cfg: DataConfig, seed: int) -> DataSplit:
    """Generate or load the dataset ``cfg`` describes, seeded by ``cfg.seed`` when set, else by ``seed``
    (the run's seed): the members of a multi-seed run, and a member singled out as its own run, share data.

    Raises ``DataError`` (one line, starting with the field to fix) for an
    unknown dataset, a field out of range, a class count the dataset does not
    allow, too few examples, or a missing or broken file.
    """
    info = DATASETS.get(cfg.dataset)
    if info is None:
        raise DataError(f"data.dataset: unknown dataset {cfg.dataset!r}; "
                        f"choose one of {', '.join(DATASETS)}")
    _check_fields(cfg)
    if cfg.classes is not None and not info.variable_classes:  # as strict as engine.experiment
        raise DataError(f"data.classes: {info.name} always has {info.default_classes} classes")
    k = cfg.classes if cfg.classes is not None else info.default_classes

    rng = np.random.default_rng(cfg.seed if cfg.seed is not None else seed)
    assert info._load is not None  # every registered dataset has a loader
    arrays = info._load(cfg, k, rng)
    y_train = _add_label_noise(arrays.y_train, cfg.label_noise, k, rng)

    return DataSplit(
        name=info.name,
        kind=info.kind,
        x_train=torch.from_numpy(np.ascontiguousarray(arrays.x_train, dtype=np.float32)),
        y_train=torch.from_numpy(np.ascontiguousarray(y_train, dtype=np.int64)),
        x_val=torch.from_numpy(np.ascontiguousarray(arrays.x_val, dtype=np.float32)),
        y_val=torch.from_numpy(np.ascontiguousarray(arrays.y_val, dtype=np.int64)),
        n_classes=k,
        input_shape=tuple(int(d) for d in arrays.x_train.shape[1:]),
        extent=_extent(np.concatenate([arrays.x_train, arrays.x_val])) if info.kind == DataKind.PLANE else None,
        class_names=info.class_names or tuple(str(c) for c in range(k)),
    )
