"""Tests of engine.data.datasets: the registry, the 2-D generators, digits and the IDX reader.

The IDX tests write their own tiny MNIST-shaped files, so they need no download,
and check exact pixel values and the exact message a student would read when a
file is broken.
"""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import importlib.util
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.config import DataConfig
from engine.data.datasets import (
    DATASETS,
    IDX_FILES,
    SPIRAL_RADIUS,
    SPIRAL_TURNS,
    DataError,
    DatasetInfo,
    DataSplit,
    _digits_arrays,
    load_data,
)

PLANES = [name for name, info in DATASETS.items() if info.kind == "plane"]
NO_FILES = [name for name, info in DATASETS.items() if not info.needs_path]

# Facts about scikit-learn's digits, from sklearn.datasets.load_digits().
DIGITS_CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
DIGITS_MEAN_PIXEL = 4.884164579855314  # mean of load_digits().data, on its 0..16 scale
DIGITS_SHA256 = "87ff0c9e40dc7e2c0e34e7257799c2e3f3aec1a016363bb11cad869ec428a826"


def plane(name: str, seed: int = 0, **fields) -> DataSplit:
    return load_data(DataConfig(dataset=name, **fields), seed)


def all_points(d: DataSplit) -> tuple[np.ndarray, np.ndarray]:
    return (torch.cat([d.x_train, d.x_val]).numpy().astype(np.float64),
            torch.cat([d.y_train, d.y_val]).numpy())


def same_split(a: DataSplit, b: DataSplit) -> bool:
    return all(torch.equal(getattr(a, k), getattr(b, k)) for k in ("x_train", "y_train", "x_val", "y_val"))


# --------------------------------------------------------------------------- registry

def test_registry_holds_exactly_the_promised_datasets():
    assert list(DATASETS) == ["spiral", "moons", "circles", "xor", "gaussians", "digits", "mnist",
                              "fashion-mnist"]
    for name, info in DATASETS.items():
        assert isinstance(info, DatasetInfo) and info.name == name
        assert info.kind in ("plane", "image")
        assert len(info.description) > 40 and "\n" not in info.description
        assert info.class_names is None or len(info.class_names) == info.default_classes
    assert {n for n, i in DATASETS.items() if i.variable_classes} == {"spiral", "gaussians"}
    assert {n for n, i in DATASETS.items() if i.needs_path} == {"mnist", "fashion-mnist"}
    assert {n: i.default_classes for n, i in DATASETS.items()} == {
        "spiral": 2, "moons": 2, "circles": 2, "xor": 2, "gaussians": 3,
        "digits": 10, "mnist": 10, "fashion-mnist": 10}
    assert DATASETS["fashion-mnist"].class_names[0] == "T-shirt/top"
    assert DATASETS["fashion-mnist"].class_names[9] == "Ankle boot"


def test_data_error_is_a_value_error_with_one_line():
    err = DataError("data.path: a\nb")
    assert isinstance(err, ValueError)
    assert str(err) == "data.path: a b"


# --------------------------------------------------------------------------- 2-D planes

@pytest.mark.parametrize("name", PLANES)
def test_plane_shapes_dtypes_and_extent(name):
    d = plane(name, n_train=123, n_val=45)
    info = DATASETS[name]
    assert (d.name, d.kind) == (name, "plane")
    assert d.x_train.shape == (123, 2) and d.x_val.shape == (45, 2)
    assert d.y_train.shape == (123,) and d.y_val.shape == (45,)
    assert d.x_train.dtype == d.x_val.dtype == torch.float32
    assert d.y_train.dtype == d.y_val.dtype == torch.int64
    assert d.n_classes == info.default_classes
    assert d.input_shape == (2,)
    assert d.class_names == (info.class_names or tuple(str(c) for c in range(d.n_classes)))
    x, _ = all_points(d)
    xmin, xmax, ymin, ymax = d.extent
    lo, hi = x.min(axis=0), x.max(axis=0)
    # every point inside, with a margin, but not a window mostly empty
    assert xmin < lo[0] and xmax > hi[0] and ymin < lo[1] and ymax > hi[1]
    assert (xmax - xmin) < 1.5 * (hi[0] - lo[0]) + 0.5 and (ymax - ymin) < 1.5 * (hi[1] - lo[1]) + 0.5


@pytest.mark.parametrize("name", PLANES)
def test_plane_scale_is_about_one_and_a_half(name):
    x, _ = all_points(plane(name, n_train=2000, n_val=10, noise=0.0))
    assert 1.0 < np.abs(x).max() <= 1.5 or (name == "gaussians" and np.abs(x).max() < 2.0)


@pytest.mark.parametrize("name,classes", [(n, None) for n in PLANES]
                         + [("spiral", k) for k in (3, 5, 10)] + [("gaussians", k) for k in (2, 7)])
def test_plane_classes_are_balanced_in_each_split(name, classes):
    d = plane(name, n_train=101, n_val=37, classes=classes)
    k = classes or DATASETS[name].default_classes
    assert d.n_classes == k
    for y in (d.y_train, d.y_val):
        counts = np.bincount(y.numpy(), minlength=k)
        assert len(counts) == k and counts.max() - counts.min() <= 1


def test_variable_class_count_sets_labels_and_names():
    d = plane("spiral", classes=4, n_train=40, n_val=8)
    assert d.n_classes == 4 and set(d.y_train.tolist()) == {0, 1, 2, 3}
    assert d.class_names == ("0", "1", "2", "3")


# The noise-free geometry each dataset promises: what it teaches depends on it.

def test_circles_are_an_inner_and_an_outer_ring():
    x, y = all_points(plane("circles", noise=0.0))
    r = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(r[y == 0], 0.5, atol=1e-6)
    np.testing.assert_allclose(r[y == 1], 1.2, atol=1e-6)
    assert plane("circles").class_names == ("inner", "outer")


def test_moons_are_two_shifted_half_circles():
    x, y = all_points(plane("moons", noise=0.0))
    upper = x[y == 0] + [0.5, 0.25]          # on the unit circle, above its centre
    lower = x[y == 1] + [0.5, 0.25] - [1.0, 0.5]  # on the unit circle around (1, 0.5), below it
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(*lower.T), 1.0, atol=1e-6)
    assert (upper[:, 1] >= -1e-6).all() and (lower[:, 1] <= 1e-6).all()


def test_xor_label_is_whether_the_signs_differ():
    x, y = all_points(plane("xor", noise=0.0, n_train=1000))
    np.testing.assert_array_equal(y, (np.sign(x[:, 0]) != np.sign(x[:, 1])).astype(np.int64))
    assert (np.abs(x) >= 0.1 - 1e-6).all()  # a gap along the axes
    quadrants = np.bincount((x[:, 0] > 0) * 2 + (x[:, 1] > 0), minlength=4)
    assert quadrants.min() > 150             # all four quadrants are populated


def test_gaussians_sit_on_a_circle_one_blob_per_class():
    x, y = all_points(plane("gaussians", classes=5, noise=0.0, n_train=2000))
    for c in range(5):
        centre = x[y == c].mean(axis=0)
        angle = 2 * np.pi * c / 5 + np.pi / 2
        np.testing.assert_allclose(centre, [np.cos(angle), np.sin(angle)], atol=0.03)
        np.testing.assert_allclose(x[y == c].std(axis=0), 0.15, rtol=0.15)


def test_spiral_arms_are_rotated_copies_of_one_spiral():
    k = 3
    x, y = all_points(plane("spiral", classes=k, noise=0.0))
    t = np.hypot(x[:, 0], x[:, 1]) / SPIRAL_RADIUS
    angle = np.arctan2(x[:, 1], x[:, 0])
    expected = 2 * np.pi * (y / k + SPIRAL_TURNS * t)
    wrapped = np.angle(np.exp(1j * (angle - expected)))  # difference modulo 2 pi
    np.testing.assert_allclose(wrapped[t > 0.01], 0.0, atol=1e-4)


def test_input_noise_has_the_configured_standard_deviation():
    clean = plane("circles", noise=0.0, n_train=4000)
    noisy = plane("circles", noise=0.05, n_train=4000)
    x, y = all_points(noisy)
    radial = np.hypot(x[:, 0], x[:, 1]) - np.where(y == 0, 0.5, 1.2)
    assert radial.std() == pytest.approx(0.05, rel=0.1)
    assert abs(radial.mean()) < 0.01
    assert torch.equal(clean.y_train, noisy.y_train)  # noise moves points, never labels


# --------------------------------------------------------------------------- seeds and label noise

@pytest.mark.parametrize("name", NO_FILES)
def test_same_seed_same_bits_other_seed_other_data(name):
    cfg = DataConfig(dataset=name, n_train=60, n_val=30, label_noise=0.2)
    a, b, c = load_data(cfg, 7), load_data(cfg, 7), load_data(cfg, 8)
    assert same_split(a, b) and a.extent == b.extent
    assert not torch.equal(a.x_train, c.x_train)
    assert not torch.equal(a.x_val, c.x_val)


@pytest.mark.parametrize("name,fraction,n_train", [("spiral", 0.3, 101), ("gaussians", 0.25, 10),
                                                   ("xor", 0.5, 99), ("digits", 0.1, 257)])
def test_label_noise_flips_exactly_round_fraction_of_train_labels(name, fraction, n_train):
    clean = plane(name, n_train=n_train, n_val=50, seed=3)
    noisy = plane(name, n_train=n_train, n_val=50, seed=3, label_noise=fraction)
    flipped = clean.y_train != noisy.y_train
    assert int(flipped.sum()) == round(fraction * n_train)  # 0.25 * 10 = 2.5 rounds to 2
    assert torch.equal(clean.x_train, noisy.x_train)
    assert torch.equal(clean.x_val, noisy.x_val) and torch.equal(clean.y_val, noisy.y_val)
    assert noisy.y_train.min() >= 0 and noisy.y_train.max() < noisy.n_classes


def test_label_noise_picks_every_wrong_class_and_never_the_right_one():
    clean = plane("spiral", classes=10, n_train=5000, n_val=1)
    noisy = plane("spiral", classes=10, n_train=5000, n_val=1, label_noise=1.0)
    offset = ((noisy.y_train - clean.y_train) % 10).numpy()
    counts = np.bincount(offset, minlength=10)
    assert counts[0] == 0                     # every label changed
    assert counts[1:].min() > 5000 / 9 * 0.8  # uniformly among the 9 others


# --------------------------------------------------------------------------- config errors

@pytest.mark.parametrize("name", [n for n, i in DATASETS.items() if not i.variable_classes])
@pytest.mark.parametrize("classes", [3, 10, 2])
def test_fixed_class_datasets_refuse_a_class_count(name, classes):
    """Even the dataset's own count: the field is not theirs to set (the validator agrees)."""
    with pytest.raises(DataError) as e:
        load_data(DataConfig(dataset=name, classes=classes), 0)
    assert str(e.value) == f"data.classes: {name} always has {DATASETS[name].default_classes} classes"


def test_unknown_dataset_and_out_of_range_fields():
    with pytest.raises(DataError, match=r"^data\.dataset: unknown dataset 'cifar'; choose one of spiral"):
        load_data(DataConfig(dataset="cifar"), 0)
    with pytest.raises(DataError, match=r"^data\.n_train: must be >= 1"):
        load_data(DataConfig(n_train=0), 0)
    with pytest.raises(DataError, match=r"^data\.classes: must be in \[2, 10\]"):
        load_data(DataConfig(classes=11), 0)
    with pytest.raises(DataError, match=r"^data\.label_noise: must be in \[0, 1\]"):
        load_data(DataConfig(label_noise=1.5), 0)


# --------------------------------------------------------------------------- digits

def test_digits_is_the_real_scikit_learn_data():
    d = plane("digits", n_train=1000, n_val=797, seed=1)  # every example, split in two
    assert d.kind == "image" and d.input_shape == (1, 8, 8) and d.extent is None
    assert d.x_train.shape == (1000, 1, 8, 8) and d.x_train.dtype == torch.float32
    assert d.n_classes == 10 and d.class_names == tuple("0123456789")
    x, y = all_points(d)
    assert x.min() == 0.0 and x.max() == 1.0
    assert x.mean() * 16 == pytest.approx(DIGITS_MEAN_PIXEL, abs=1e-9)
    np.testing.assert_array_equal(np.bincount(y), DIGITS_CLASS_COUNTS)
    # train and val are disjoint: together they are exactly the 1797 (image, label) rows
    rows = np.column_stack([(x.reshape(len(x), 64) * 16).round(), y])
    raw_x, raw_y = _digits_arrays()
    raw_rows = np.column_stack([raw_x.reshape(-1, 64), raw_y]).astype(np.float64)
    np.testing.assert_array_equal(np.unique(rows, axis=0, return_counts=True)[1],
                                  np.unique(raw_rows, axis=0, return_counts=True)[1])
    np.testing.assert_array_equal(np.unique(rows, axis=0), np.unique(raw_rows, axis=0))


def test_digits_bytes_are_scikit_learns():
    """The fast path reads sklearn's digits.csv.gz itself; pin it to load_digits()'s numbers.

    The checksum was taken from ``load_digits()`` (data as uint8, then target as
    uint8); checking it here spares every test run the second it takes to
    import scikit-learn.
    """
    x, y = _digits_arrays()
    assert x.shape == (1797, 8, 8) and x.dtype == np.uint8 and int(x.max()) == 16
    digest = hashlib.sha256(x.reshape(-1, 64).tobytes() + y.astype(np.uint8).tobytes()).hexdigest()
    assert digest == DIGITS_SHA256


def test_digits_falls_back_to_load_digits_when_the_file_moves(monkeypatch):
    x, y = _digits_arrays()
    x_other, y_other = 16 - x, (y + 1) % 10  # different numbers, so the test sees which route ran
    fake = types.ModuleType("sklearn.datasets")
    fake.load_digits = lambda: types.SimpleNamespace(data=x_other.reshape(-1, 64).astype(np.float64),
                                                     target=y_other)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", fake)  # no slow import of the real one
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    _digits_arrays.cache_clear()
    try:
        x2, y2 = _digits_arrays()
    finally:
        _digits_arrays.cache_clear()
    np.testing.assert_array_equal(x2, x_other)
    np.testing.assert_array_equal(y2, y_other)
    assert x2.dtype == np.uint8 and y2.dtype == np.int64


def test_digits_load_from_cold_reads_the_file_without_importing_sklearn():
    """The fast path (the bundled CSV read directly) is taken: importing scikit-learn costs about a second,
    which is what the file read avoids. Checked by what is imported, not by a clock."""
    code = ("import sys; from engine.config import DataConfig; from engine.data.datasets import load_data;"
            "load_data(DataConfig(dataset='digits', n_train=1000, n_val=500), 0);"
            "print(any(m.split('.')[0] == 'sklearn' for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[3],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_digits_refuses_more_examples_than_it_has():
    with pytest.raises(DataError) as e:
        load_data(DataConfig(dataset="digits", n_train=1500, n_val=500), 0)
    assert str(e.value) == "data.n_train: digits has 1797 examples; n_train + n_val = 2000 is more"


# --------------------------------------------------------------------------- IDX files

N_TRAIN_FILE, N_TEST_FILE = 50, 20


def write_idx(path: Path, data: np.ndarray, *, magic: int | None = None, gz: bool = False) -> Path:
    """Write ``data`` (uint8) as an IDX file: magic, big-endian uint32 dims, raw bytes."""
    data = np.ascontiguousarray(data, dtype=np.uint8)
    if magic is None:
        magic = 0x0800 | data.ndim
    payload = magic.to_bytes(4, "big") + np.array(data.shape, ">u4").tobytes() + data.tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        payload = gzip.compress(payload)
    path.write_bytes(payload)
    return path


def mnist_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    """Random 28x28 images whose pixel [0, 0] names them: i in train, 100 + i in t10k."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for half, n, first in (("train", N_TRAIN_FILE, 0), ("val", N_TEST_FILE, 100)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        images[:, 0, 0] = first + np.arange(n)
        arrays[f"{half}_images"] = images
        arrays[f"{half}_labels"] = rng.integers(0, 10, n, dtype=np.uint8)
    return arrays


def write_mnist(folder: Path, *, gz: bool = False) -> dict[str, np.ndarray]:
    arrays = mnist_arrays()
    for key, name in IDX_FILES.items():
        write_idx(folder / name, arrays[key], gz=gz)
    return arrays


def mnist(folder: Path, dataset: str = "mnist", seed: int = 0, **fields) -> DataSplit:
    fields = {"n_train": 30, "n_val": 12, **fields}
    return load_data(DataConfig(dataset=dataset, path=str(folder), **fields), seed)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_files_load_with_exact_pixels(tmp_path, gz):
    arrays = write_mnist(tmp_path, gz=gz)
    d = mnist(tmp_path)
    assert d.kind == "image" and d.input_shape == (1, 28, 28) and d.extent is None
    assert d.x_train.shape == (30, 1, 28, 28) and d.x_val.shape == (12, 1, 28, 28)
    assert d.x_train.dtype == torch.float32 and d.y_train.dtype == torch.int64
    assert d.n_classes == 10 and d.class_names == tuple("0123456789")
    for half, x, y, first in (("train", d.x_train, d.y_train, 0), ("val", d.x_val, d.y_val, 100)):
        idx = (x[:, 0, 0, 0] * 255).round().long().numpy() - first
        assert len(set(idx.tolist())) == len(idx)  # a subset, no repeats
        assert idx.min() >= 0 and idx.max() < len(arrays[f"{half}_images"])  # from the right file
        expected = torch.from_numpy(arrays[f"{half}_images"][idx]).float().unsqueeze(1) / 255
        assert torch.equal(x, expected)
        assert torch.equal(y, torch.from_numpy(arrays[f"{half}_labels"][idx]).long())
    assert float(d.x_train.min()) >= 0.0 and float(d.x_train.max()) <= 1.0


def test_gzipped_and_raw_files_give_the_same_tensors(tmp_path):
    (tmp_path / "raw").mkdir(), (tmp_path / "gz").mkdir()
    write_mnist(tmp_path / "raw"), write_mnist(tmp_path / "gz", gz=True)
    assert same_split(mnist(tmp_path / "raw", seed=4), mnist(tmp_path / "gz", seed=4))
    assert not same_split(mnist(tmp_path / "raw", seed=4), mnist(tmp_path / "raw", seed=5))


def test_whole_files_and_fashion_names(tmp_path):
    arrays = write_mnist(tmp_path)
    d = mnist(tmp_path, "fashion-mnist", n_train=N_TRAIN_FILE, n_val=N_TEST_FILE, label_noise=0.2)
    assert d.class_names[0] == "T-shirt/top" and d.name == "fashion-mnist"
    assert sorted((d.x_train[:, 0, 0, 0] * 255).round().long().tolist()) == list(range(N_TRAIN_FILE))
    np.testing.assert_array_equal(np.sort(d.y_val.numpy()), np.sort(arrays["val_labels"]))
    assert int((d.y_train != mnist(tmp_path, "fashion-mnist", n_train=N_TRAIN_FILE,
                                   n_val=N_TEST_FILE).y_train).sum()) == 10


def test_more_examples_than_the_files_hold(tmp_path):
    write_mnist(tmp_path)
    with pytest.raises(DataError) as e:
        mnist(tmp_path, n_train=51)
    assert str(e.value) == (f"data.n_train: {tmp_path / IDX_FILES['train_images']} holds 50 images; "
                            "n_train = 51 is more")
    with pytest.raises(DataError, match=r"^data\.n_val: .*t10k-images-idx3-ubyte holds 20 images; n_val = 21"):
        mnist(tmp_path, n_val=21)


def test_missing_path_folder_and_file(tmp_path):
    with pytest.raises(DataError, match=r"^data\.path: mnist needs the folder holding its IDX files"):
        load_data(DataConfig(dataset="mnist"), 0)
    with pytest.raises(DataError, match=r"^data\.path: fashion-mnist needs the folder"):
        load_data(DataConfig(dataset="fashion-mnist"), 0)
    with pytest.raises(DataError, match=r"^data\.path: .*nowhere does not exist"):
        mnist(tmp_path / "nowhere")
    write_mnist(tmp_path)
    (tmp_path / IDX_FILES["val_labels"]).unlink()
    with pytest.raises(DataError) as e:
        mnist(tmp_path)
    assert str(e.value).startswith(f"data.path: {tmp_path} holds no t10k-labels-idx1-ubyte "
                                   "(nor t10k-labels-idx1-ubyte.gz)")


def _replace(key, data=None, **kw):
    """A corruption: rewrite one of the four files from (a change of) the good arrays."""
    def corrupt(folder: Path, arrays: dict[str, np.ndarray]) -> Path:
        path = folder / IDX_FILES[key]
        path.unlink()
        return write_idx(path, arrays[key] if data is None else data(arrays[key]), **kw)
    return corrupt


def _cut(key, n_bytes):
    def corrupt(folder: Path, arrays) -> Path:
        path = folder / IDX_FILES[key]
        path.write_bytes(path.read_bytes()[:n_bytes])
        return path
    return corrupt


def _append(key, extra: bytes):
    def corrupt(folder: Path, arrays) -> Path:
        path = folder / IDX_FILES[key]
        path.write_bytes(path.read_bytes() + extra)
        return path
    return corrupt


def _bad_gzip(key, payload_of):
    def corrupt(folder: Path, arrays) -> Path:
        (folder / IDX_FILES[key]).unlink()
        path = folder / (IDX_FILES[key] + ".gz")
        path.write_bytes(payload_of(gzip.compress(b"\0" * 5000)))
        return path
    return corrupt


# name -> (corrupt the folder, returning the file the message must name; the message after "<file> ")
CORRUPTIONS = {
    "bad magic": (_replace("train_images", magic=0x12345678),
                  "is not an IDX images file: does not start with an IDX magic number "
                  "(magic number 0x12345678, expected 0x00000803)"),
    "labels given as images": (_replace("train_images", lambda a: a[:, 0, 0]),
                               "is not an IDX images file: has 1 dimensions where IDX images have 3 "
                               "(magic number 0x00000801, expected 0x00000803)"),
    "float type": (_replace("val_labels", magic=0x00000D01),
                   "is not an IDX labels file: holds data of type 0x0D, not unsigned bytes (0x08)"),
    "truncated pixels": (_cut("train_images", 16 + 1234),
                         "is truncated: header says 50 images of 28x28, file holds 1234 bytes of pixels"),
    "truncated labels": (_cut("val_labels", 8 + 5),
                         "is truncated: header says 20 labels, file holds 5 bytes of labels"),
    "truncated header": (_cut("train_images", 10),
                         "is truncated: 10 bytes, shorter than its 16-byte IDX header"),
    "empty file": (_cut("train_labels", 0), "is truncated: 0 bytes, too short for an IDX header"),
    "extra bytes": (_append("val_images", b"\0" * 7),
                    "is corrupt: header says 20 images of 28x28 (15680 bytes), file holds 15687 bytes"),
    "label out of range": (_replace("train_labels", lambda a: np.where(np.arange(a.size) == 3, 12, a)),
                           "has label 12 at index 3; labels must be 0..9"),
    "not gzip": (_bad_gzip("train_labels", lambda gz: b"this is not gzip at all"),
                 "is not a valid gzip file"),
    "truncated gzip": (_bad_gzip("val_images", lambda gz: gz[:len(gz) // 2]), "is not a valid gzip file"),
    "damaged deflate": (_bad_gzip("val_images", lambda gz: gz[:12] + b"\xff" * 20 + gz[32:]),
                        "is not a valid gzip file"),
}


@pytest.mark.parametrize("case", CORRUPTIONS)
def test_corrupt_file_gives_a_one_line_data_error(tmp_path, case):
    corrupt, words = CORRUPTIONS[case]
    path = corrupt(tmp_path, write_mnist(tmp_path))
    with pytest.raises(DataError) as e:
        mnist(tmp_path)
    message = str(e.value)
    assert message.startswith(f"data.path: {path} {words}"), message
    assert "\n" not in message


def test_images_and_labels_counts_must_agree(tmp_path):
    arrays = write_mnist(tmp_path)
    _replace("train_labels", lambda a: a[:49])(tmp_path, arrays)
    with pytest.raises(DataError) as e:
        mnist(tmp_path)
    assert str(e.value) == (f"data.path: {tmp_path / IDX_FILES['train_images']} holds 50 images but "
                            f"{tmp_path / IDX_FILES['train_labels']} holds 49 labels")


def test_train_and_test_images_must_have_one_size(tmp_path):
    arrays = write_mnist(tmp_path)
    _replace("val_images", lambda a: a[:, :27, :27])(tmp_path, arrays)
    with pytest.raises(DataError, match=r"holds images of 28x28 but .*t10k-images-idx3-ubyte holds "
                                        r"images of 27x27"):
        mnist(tmp_path)


# --------------------------------------------------------------------------- what each dataset takes

@pytest.mark.parametrize("name", DATASETS)
def test_takes_names_exactly_the_keys_that_change_the_data(tmp_path, name):
    """A key a dataset takes changes its tensors; one it does not take changes nothing, or, for a
    class count the dataset fixes, is refused."""
    info = DATASETS[name]
    order = [f.name for f in dataclasses.fields(DataConfig)]
    assert set(info.takes) <= set(order) - {"dataset"}
    assert list(info.takes) == [k for k in order if k in info.takes], "takes is in file order"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_mnist(tmp_path / "a")
    other = mnist_arrays(seed=1)
    for key, file_name in IDX_FILES.items():
        write_idx(tmp_path / "b" / file_name, other[key])
    base = DataConfig(dataset=name, n_train=30, n_val=12, path=str(tmp_path / "a"))
    changes = {"n_train": 20, "n_val": 10, "noise": 0.3, "label_noise": 0.5, "classes": 5,
               "path": str(tmp_path / "b"), "seed": 7}
    assert set(changes) == set(order) - {"dataset"}
    before = load_data(base, 0)
    for key, value in changes.items():
        cfg = dataclasses.replace(base, **{key: value})
        if key == "classes" and key not in info.takes:
            with pytest.raises(DataError, match=f"^data.classes: {name} always has"):
                load_data(cfg, 0)
            continue
        assert same_split(load_data(cfg, 0), before) == (key not in info.takes), key


def test_the_kinds_are_one_definition_in_config():
    from engine.config import DataKind
    from engine.data import datasets

    assert datasets.PLANE is DataKind.PLANE and datasets.IMAGE is DataKind.IMAGE
    assert {info.kind for info in DATASETS.values()} == set(DataKind)
    assert DataKind.PLANE == "plane" and f"{DataKind.IMAGE}" == "image"


def test_a_gzip_bomb_is_inflated_no_further_than_its_header_promises(tmp_path):
    """20 images of 28x28 promised, 20 MB of zeros inflated after them: reading stops one byte past the
    promise (the message counts that byte), and a header promising more than MAX_IDX_BYTES is refused
    before anything past it is inflated."""
    from engine.data.datasets import MAX_IDX_BYTES
    write_mnist(tmp_path)
    (tmp_path / IDX_FILES["val_images"]).unlink()
    bomb = tmp_path / (IDX_FILES["val_images"] + ".gz")
    header = (0x0803).to_bytes(4, "big") + np.array([20, 28, 28], ">u4").tobytes()
    bomb.write_bytes(gzip.compress(header + b"\0" * 20_000_000, compresslevel=1))
    with pytest.raises(DataError, match=r"is corrupt: header says 20 images of 28x28 \(15680 bytes\), "
                                        r"file holds 15681 bytes"):
        mnist(tmp_path)
    huge = (0x0803).to_bytes(4, "big") + np.array([10 ** 6, 28, 28], ">u4").tobytes()
    bomb.write_bytes(gzip.compress(huge + b"\0" * 1000))
    with pytest.raises(DataError, match=rf"would inflate to 784,000,016 bytes, more than the "
                                        rf"{MAX_IDX_BYTES:,} an IDX file may hold"):
        mnist(tmp_path)
