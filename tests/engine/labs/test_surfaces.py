"""The loss surfaces: minima are real minima, grids match pointwise values, parameters are checked."""
import math

import numpy as np
import pytest
import torch

from engine.labs.surfaces import SURFACES, SurfaceError, distance_to_minimum, evaluate, gradient, grid, surface


@pytest.mark.parametrize("name", [n for n, s in SURFACES.items() if s.minima])
def test_every_listed_minimum_is_a_minimum(name):
    info = SURFACES[name]
    assert abs(min(evaluate(name, mx, my) for mx, my in info.minima)) < 1e-10      # the lowest is 0
    for mx, my in info.minima:
        assert np.abs(gradient(name, mx, my)).max() < 1e-6
        # Lower than every point on a small circle around it.
        for angle in np.linspace(0, 2 * math.pi, 8, endpoint=False):
            assert evaluate(name, mx + 1e-3 * math.cos(angle), my + 1e-3 * math.sin(angle)) > evaluate(name, mx, my)


def test_known_values_and_autograd_gradient():
    assert evaluate("rosenbrock", -1.5, 2.0) == pytest.approx(2.5 ** 2 + 100 * (2 - 2.25) ** 2)
    assert gradient("rosenbrock", -1.5, 2.0) == pytest.approx([-2 * 2.5 - 400 * -1.5 * (2 - 2.25), 200 * (2 - 2.25)])
    assert evaluate("beale", 0.0, 0.0) == pytest.approx(1.5 ** 2 + 2.25 ** 2 + 2.625 ** 2)
    assert evaluate("rastrigin", 1.0, 0.0) == pytest.approx(1.0)
    assert evaluate("ravine", 1.0, 1.0, {"condition": 100}) == pytest.approx(50.5)
    assert gradient("ravine", 1.0, 1.0, {"condition": 100}) == pytest.approx([1.0, 100.0])


def test_saddle_has_no_minimum_and_a_flat_point_that_is_not_one():
    info = surface("saddle")
    assert info.minima == () and not info.has_minimum
    assert np.all(gradient("saddle", 0.0, 0.0) == 0)
    assert evaluate("saddle", 0.0, 0.5) < evaluate("saddle", 0.0, 0.0) < evaluate("saddle", 0.5, 0.0)
    assert np.isnan(distance_to_minimum("saddle", [0.0, 1.0], [0.0, 1.0])).all()
    assert "no minimum" in info.description


def test_every_entry_is_complete_and_its_start_lies_in_its_box():
    for name, info in SURFACES.items():
        assert info.name == name and info.title and info.description and info.formula
        xmin, xmax, ymin, ymax = info.box
        assert xmin < xmax and ymin < ymax
        assert info.contains(*info.start)
        assert all(info.contains(*m) for m in info.minima)
        assert np.abs(gradient(name, *info.start)).max() > 0      # a start where something happens


def test_grid_is_one_vectorised_call_equal_to_pointwise_values():
    for name in SURFACES:
        g = grid(name, n=21)
        assert g.values.shape == (21, 21) and g.colors.shape == (21, 21)
        assert g.xs[0] == SURFACES[name].box[0] and g.ys[-1] == SURFACES[name].box[3]
        for i, j in ((0, 0), (3, 17), (20, 9)):
            assert g.values[i, j] == pytest.approx(evaluate(name, g.xs[i], g.ys[j]), rel=1e-12, abs=1e-12)
        assert np.isfinite(g.colors).all()
        assert len(g.levels) > 5 and np.all(np.diff(g.levels) > 0)
    log = grid("rosenbrock", n=21)
    assert log.log_scale and log.colors.max() - log.colors.min() > 4     # several decades
    assert not grid("saddle", n=21).log_scale


def test_ravine_condition_number_is_the_hessians():
    f = surface("ravine").function({"condition": 400})
    hess = torch.autograd.functional.hessian(f, torch.tensor([0.3, -0.2], dtype=torch.float64))
    eig = torch.linalg.eigvalsh(hess)
    assert (eig.max() / eig.min()).item() == pytest.approx(400)


def test_bad_names_and_parameters_say_what_is_wrong():
    with pytest.raises(SurfaceError, match="unknown surface 'banana'.*rosenbrock"):
        surface("banana")
    with pytest.raises(SurfaceError, match=r"condition: must be in \[1, 10000\], got 0"):
        surface("ravine").resolve({"condition": 0})
    with pytest.raises(SurfaceError, match="condition: must be a number"):
        surface("ravine").resolve({"condition": "steep"})
    with pytest.raises(SurfaceError, match="rosenbrock has no parameter 'condition'"):
        surface("rosenbrock").resolve({"condition": 3})


def test_distance_to_the_nearest_of_himmelblaus_four_minima():
    d = distance_to_minimum("himmelblau", np.array([3.0, 3.0, -3.779310253377747]), np.array([2.0, 2.5, -3.283185991286170]))
    assert d == pytest.approx([0.0, 0.5, 0.0], abs=1e-12)
