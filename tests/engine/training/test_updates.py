

def test_a_spread_is_the_members_min_max_and_quartiles_at_each_point_ignoring_ended_members():
    import numpy as np

    from engine.training.updates import Spread
    s = Spread.of(np.array([[1.0, 2.0, 3.0, 4.0], [1.0, np.nan, 3.0, np.nan], [np.nan] * 4]))
    assert len(s) == 3
    np.testing.assert_array_equal(s.minimum[:2], [1.0, 1.0])
    np.testing.assert_array_equal(s.maximum[:2], [4.0, 3.0])
    np.testing.assert_allclose(s.q25[:2], [1.75, 1.5])
    np.testing.assert_allclose(s.q75[:2], [3.25, 2.5])
    assert np.isnan([s.minimum[2], s.maximum[2], s.q25[2], s.q75[2]]).all()
    assert len(Spread.of(np.empty((0, 4)))) == 0
