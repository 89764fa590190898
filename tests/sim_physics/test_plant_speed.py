"""Regression guard on the plant's cost per tick (simulator/bench_plant.py
measures it properly). Bounds are ~5x the measured figures so a slow CI
machine does not fail them; a real regression (say, per-tick substeps on
the actuator board or an eager IMU) does."""
import pytest

from simrig import ACTUATOR, BRAKE, load_board
from simulator.bench_plant import bench


@pytest.mark.parametrize("name", [ACTUATOR, BRAKE])
def test_plant_step_cost(name):
    us_step = bench(load_board(name), 20000, False)
    us_io = bench(load_board(name), 20000, True)
    assert us_step < 10.0
    assert us_io < 45.0
