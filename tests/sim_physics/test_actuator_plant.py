"""Actuator board: geometry, motor, self-locking, faults, sensors."""
import math

import pytest

from simrig import ACTUATOR, load_board
from simulator.actuator import Geometry, calibration_table, check_geometry


def test_self_locking_holds_with_zero_drive(rig_factory):
    rig = rig_factory(ACTUATOR, theta_deg=30.0)
    rig.release_brake()
    rig.enable.value(1)               # powered, zero duty
    trace = rig.run(10.0)
    assert max(trace) - min(trace) == 0.0
    rig.enable.value(0)               # unpowered too
    trace = rig.run(5.0)
    assert trace[-1] == pytest.approx(30.0, abs=1e-9)
    assert rig.plant.current_ma == 0.0


def test_full_duty_rate_mid_range(rig_factory):
    rig = rig_factory(ACTUATOR, theta_deg=-20.0)
    rig.release_brake()
    rig.drive(1.0)
    t = []
    rig.run(8.0, each=lambda r: t.append((r.emul.clock.now_s(), r.plant.theta_deg)))
    lo = [p for p in t if p[1] >= -10.0][0]
    hi = [p for p in t if p[1] >= 30.0][0]
    rate = (hi[1] - lo[1]) / (hi[0] - lo[0])
    nominal = rig.board["actuator"]["rate_deg_s_full_duty"]
    assert 0.7 * nominal <= rate <= 1.3 * nominal


def test_retract_is_slower_against_gravity_and_negative(rig_factory):
    rig = rig_factory(ACTUATOR, theta_deg=40.0)
    rig.release_brake()
    rig.drive(-1.0)
    trace = rig.run(2.0)
    assert trace[-1] < 40.0 - 10.0
    assert rig.plant.rate_deg_s < 0.0
    assert rig.plant.current_ma > rig.plant.actuator.i_nl   # lifting the head end


def test_stall_fault_no_motion_high_current(rig_factory):
    rig = rig_factory(ACTUATOR, theta_deg=0.0)
    rig.release_brake()
    rig.plant.inject_fault("actuator_stall")
    rig.drive(1.0)
    trace = rig.run(3.0)
    assert max(trace) == min(trace) == pytest.approx(0.0, abs=1e-9)
    assert rig.plant.current_ma == pytest.approx(rig.plant.actuator.i_stall)
    cs = rig.board["current_sense"]
    adc = rig.m.ADC(rig.m.Pin(cs["adc"]), atten=rig.m.ADC.ATTN_11DB)
    counts = adc.read_u16() >> 4
    assert counts * cs["ma_per_count"] > cs["limit_ma"]
    rig.plant.clear_fault("actuator_stall")
    trace = rig.run(1.0)
    assert trace[-1] > 5.0


def test_runaway_moves_without_command_until_enable_drops(rig_factory):
    rig = rig_factory(ACTUATOR, theta_deg=0.0)
    rig.release_brake()
    rig.enable.value(1)
    rig.plant.inject_fault("actuator_runaway", duty=0.5)
    trace = rig.run(2.0)
    assert trace[-1] > 5.0
    assert rig.plant.duty == 0.0           # the pins still say zero
    rig.enable.value(0)
    held = rig.run(2.0)
    assert max(held) - min(held) < 0.05     # stops within a tick or two
    assert rig.plant.current_ma == 0.0


def test_mechanical_stops_never_exceeded(rig_factory):
    rig = rig_factory(ACTUATOR)
    rig.release_brake()
    lo, hi = rig.board["mech_min_deg"], rig.board["mech_max_deg"]
    rig.drive(1.0)
    up = rig.run(25.0)
    assert max(up) <= hi
    assert up[-1] == pytest.approx(hi, abs=1e-6)
    assert rig.plant.current_ma == pytest.approx(rig.plant.actuator.i_stall)  # stalled on the stop
    rig.drive(-1.0)
    down = rig.run(40.0)
    assert min(down) >= lo
    assert down[-1] == pytest.approx(lo, abs=1e-6)


def test_pinch_slows_and_large_pinch_stalls(rig_factory):
    rig = rig_factory(ACTUATOR, theta_deg=0.0)
    rig.release_brake()
    rig.drive(1.0)
    free = rig.run(1.0)
    rig.plant.set_theta(0.0)
    rig.plant.inject_fault("pinch", torque_nm=200)
    pinched = rig.run(1.0)
    assert 0.0 < pinched[-1] < free[-1]
    rig.plant.set_theta(0.0)
    rig.plant.inject_fault("pinch", torque_nm=5000)
    stuck = rig.run(1.0)
    assert max(stuck) == pytest.approx(0.0, abs=1e-9)
    assert rig.plant.actuator.stalled


def test_brake_engaged_resists_the_actuator(rig_factory):
    rig = rig_factory(ACTUATOR, theta_deg=0.0)
    rig.drive(0.5)                      # brake left engaged: 400 N m against it
    trace = rig.run(1.0)
    assert max(trace) == pytest.approx(0.0, abs=1e-9)
    assert rig.plant.actuator.stalled


def test_geometry_shipped_numbers_are_replaced_by_a_valid_one():
    board = load_board(ACTUATOR)
    geom = Geometry(board)
    act = board["actuator"]
    shipped_ok = check_geometry(act["pivot_to_frame_anchor_mm"], act["pivot_to_bed_anchor_mm"],
                                act["anchor_angle_offset_deg"], act["retracted_mm"],
                                act["stroke_mm"], board["mech_min_deg"], board["mech_max_deg"])
    assert geom.derived == (shipped_ok is not None)
    prev = -1.0
    th = board["mech_min_deg"]
    while th <= board["mech_max_deg"]:
        x = geom.stroke_of(th)
        assert 0.0 <= x <= act["stroke_mm"]
        assert x > prev                    # monotonic
        assert geom.theta_of(x) == pytest.approx(th, abs=1e-9)
        prev = x
        th += 0.25


def test_calibration_table_maps_pot_counts_to_angle(rig_factory):
    board = load_board(ACTUATOR)
    table = calibration_table(board)
    cal = board["position_sensor"]["cal"]
    assert table[0] == [cal[0][0], board["mech_min_deg"] * 1000]
    assert table[-1] == [cal[-1][0], board["mech_max_deg"] * 1000]

    def angle_mdeg(raw):   # the firmware's interpolation (drivers/analog.py)
        for i in range(1, len(table)):
            if raw <= table[i][0]:
                r0, a0 = table[i - 1]
                r1, a1 = table[i]
                return a0 + (raw - r0) * (a1 - a0) // (r1 - r0)
        return table[-1][1]

    for theta in (-70.0, -45.0, -10.0, 0.0, 20.0, 60.0, 90.0):
        rig = rig_factory(ACTUATOR, theta_deg=theta)
        ps = board["position_sensor"]
        adc = rig.m.ADC(rig.m.Pin(ps["adc"]), atten=rig.m.ADC.ATTN_11DB)
        reads = [angle_mdeg(adc.read_u16() >> 4) / 1000.0 for _ in range(200)]
        mean = sum(reads) / len(reads)
        # within the count resolution there (steep near the ends) plus noise
        lever = rig.plant.actuator.geom.lever_mm(theta)
        deg_per_count = math.degrees(1.0 / lever) / rig.plant._pot_scale
        assert abs(mean - theta) < 0.1 + deg_per_count


def test_position_sensor_open_reads_a_rail(rig_factory):
    rig = rig_factory(ACTUATOR)
    ps = rig.board["position_sensor"]
    adc = rig.m.ADC(rig.m.Pin(ps["adc"]), atten=rig.m.ADC.ATTN_11DB)
    rig.plant.inject_fault("position_sensor_open")
    assert min(adc.read_u16() >> 4 for _ in range(50)) > 4080
    rig.plant.inject_fault("position_sensor_open", rail="low")
    assert max(adc.read_u16() >> 4 for _ in range(50)) < 15
    rig.plant.clear_fault("position_sensor_open")
    assert 300 < (adc.read_u16() >> 4) < 500


def test_adc_without_11db_saturates_early(rig_factory):
    rig = rig_factory(ACTUATOR, theta_deg=60.0)
    ps = rig.board["position_sensor"]
    adc = rig.m.ADC(rig.m.Pin(ps["adc"]))       # ESP32 default: 0 dB
    assert adc.read_u16() >> 4 == 4095


def test_power_enable_and_estop_cut_the_motor(rig_factory):
    rig = rig_factory(ACTUATOR, theta_deg=0.0)
    rig.release_brake()
    rig.drive(1.0)
    rig.plant.press("estop")
    trace = rig.run(1.0)
    assert max(trace) == pytest.approx(0.0, abs=1e-9)
    assert rig.plant.brake_engaged
    assert rig.emul.level[rig.board["estop_sense"]] == 0
    rig.plant.release("estop")
    assert rig.emul.level[rig.board["estop_sense"]] == 1
    trace = rig.run(1.0)
    assert trace[-1] > 3.0


def test_after_a_reset_the_outputs_power_nothing(rig_factory):
    rig = rig_factory(ACTUATOR, theta_deg=0.0)
    rig.release_brake()
    rig.drive(1.0)
    rig.run(0.5)
    assert not rig.plant.brake_engaged
    rig.emul.hard_reset(rig.m.WDT_RESET)      # pins back to unconfigured inputs
    trace = rig.run(1.0)
    assert max(trace) - min(trace) == 0.0
    assert rig.plant.brake_engaged
