"""Trace CSV and summary figures from hand-made rows."""
import csv
import io

import pytest

import simhelp  # noqa: F401

from simulator.summary import (emergencies, ideal_return_s, inverted_s, longest_holds,
                               summarize)
from simulator.trace import COLUMNS, format_csv, make_row

BOARD = {"home_deg": -70}
CONTRACT_COLUMNS = ("t_s", "theta_deg", "theta_est_deg", "setpoint_deg", "cap_deg", "state",
                    "actuator_duty", "brake", "heartbeat_ok", "fault", "event")


def _rows(thetas, start=0):
    return [make_row(start + i, theta_deg=th) for i, th in enumerate(thetas)]


def test_csv_has_the_contract_columns_and_values_in_their_units():
    rows = [make_row(0, theta_deg=-70.0, est_mdeg=-69950, setpoint_mdeg=-70000, cap_mdeg=60000,
                     state="idle", duty_permille=-250, brake=True, heartbeat_ok=False),
            make_row(1234, theta_deg=12.3456, est_mdeg=12300, state="moving", brake=False,
                     fault="imu_missing", scenario_event='command:A,"B" -> ERR',
                     fw_event="stop", trigger=True, rate_mdeg_s=-10000, accel_mdeg_s2=2500,
                     true_rate_deg_s=-9.87654, current_ma=1500.0, arms=1.0, brake_actual=False)]
    text = format_csv(rows, 10)
    table = list(csv.DictReader(io.StringIO(text)))
    assert set(CONTRACT_COLUMNS) <= set(table[0]) and tuple(table[0]) == COLUMNS
    a, b = table
    assert a["t_s"] == "0.00" and b["t_s"] == "12.34"
    assert a["theta_deg"] == "-70.000" and a["theta_est_deg"] == "-69.950"
    assert a["setpoint_deg"] == "-70.000" and a["cap_deg"] == "60.000"
    assert a["actuator_duty"] == "-0.250" and a["brake"] == "1" and a["heartbeat_ok"] == "0"
    assert a["fault"] == "" and a["event"] == "" and a["trigger"] == ""
    assert b["theta_deg"] == "12.346" and b["brake"] == "0" and b["fault"] == "imu_missing"
    assert b["event"] == 'command:A,"B" -> ERR; stop' and b["trigger"] == "stop"
    assert b["setpoint_rate_deg_s"] == "-10.000" and b["setpoint_accel_deg_s2"] == "2.500"
    assert b["theta_rate_deg_s"] == "-9.877" and b["current_a"] == "1.500"
    assert b["arms"] == "1" and b["brake_actual"] == "0"


def test_csv_time_column_for_other_tick_lengths():
    text = format_csv([make_row(3)], 5)
    assert text.splitlines()[1].startswith("0.015,")


def test_a_hold_keeps_its_band_within_the_hysteresis():
    # 1 s at 10, 2 s wobbling around 30 (never past 31), 3 s at 45, 1 s at 29.5
    thetas = [10.0] * 100 + [29.0, 30.5, 30.9] * 66 + [29.0, 29.0] + [45.0] * 300 + [29.5] * 100
    holds = longest_holds(_rows(thetas), 0.01)
    assert holds["0-30"] == pytest.approx(2.99)
    # 30-60 starts at the first 45 and, 29.5 being within 1 degree, goes on to the end
    assert holds["30-60"] == pytest.approx(3.99)
    assert holds["60-90"] == 0.0


def test_theta_at_or_below_zero_ends_a_hold():
    thetas = [20.0] * 100 + [0.0] + [20.0] * 50 + [65.0] * 10 + [91.0] * 10
    holds = longest_holds(_rows(thetas), 0.01)
    assert holds["0-30"] == pytest.approx(0.99)
    assert holds["60-90"] == pytest.approx(0.19)   # above 90 still counts in the top band


def test_inverted_time_counts_gaps_after_them():
    rows = _rows([-10.0, 5.0, 5.0]) + _rows([5.0, -1.0], start=100)
    assert inverted_s(rows, 0.01) == pytest.approx(0.02 + 0.98)


def _emergency_rows(reaction):
    """At 60 deg, STOP at tick 10; `reaction` fills the rows after the trigger."""
    rows = [make_row(k, theta_deg=60.0, setpoint_mdeg=60000, state="holding") for k in range(10)]
    rows += reaction
    return rows


def test_response_is_the_first_tick_the_command_turns_toward_home():
    trig = make_row(10, theta_deg=60.0, setpoint_mdeg=60000, state="emergency_return",
                    fw_event="stop", trigger=True)
    late = make_row(11, theta_deg=60.0, setpoint_mdeg=60000, accel_mdeg_s2=-800,
                    state="emergency_return")
    home = [make_row(12 + k, theta_deg=-70.0 + (0.5 if k < 5 else 0.0), setpoint_mdeg=-70000,
                     state="idle" if k > 2 else "emergency_return",
                     brake_actual=k > 3) for k in range(10)]
    em = emergencies(_emergency_rows([trig, late] + home), -70, 0.01)
    assert em == [{"trigger": "stop", "t_s": 0.1, "theta_deg": 60.0, "response_s": 0.01,
                   "home_s": 0.06}]


def test_response_by_velocity_or_at_once_by_jerk():
    moving = make_row(10, theta_deg=60.0, rate_mdeg_s=-100, fw_event="hb", trigger=True)
    jerk = make_row(10, theta_deg=60.0, accel_mdeg_s2=-800, fw_event="hb", trigger=True)
    away = make_row(10, theta_deg=60.0, rate_mdeg_s=500, accel_mdeg_s2=0, fw_event="hb",
                    trigger=True)
    assert emergencies(_emergency_rows([moving]), -70, 0.01)[0]["response_s"] == 0.0
    assert emergencies(_emergency_rows([jerk]), -70, 0.01)[0]["response_s"] == 0.0
    never = emergencies(_emergency_rows([away]), -70, 0.01)[0]
    assert never["response_s"] is None and never["home_s"] is None


def test_a_trigger_held_over_several_ticks_counts_once():
    rows = [make_row(k, theta_deg=-70.0, setpoint_mdeg=-70000, fw_event="home", trigger=True)
            for k in range(5)]
    rows.append(make_row(5, theta_deg=-70.0, fw_event="stop", trigger=True))
    em = emergencies(rows, -70, 0.01)
    assert [(e["trigger"], e["t_s"], e.get("flagged_ticks")) for e in em] == [
        ("home", 0.0, 5), ("stop", 0.05, None)]


def test_summary_fields_and_the_true_over_cap_maximum():
    rows = _rows([-70.0, 10.0, 29.0]) + [make_row(3, theta_deg=5.0, cap_mdeg=30000,
                                                  rate_mdeg_s=-6000, accel_mdeg_s2=5000,
                                                  fault="imu_freeze", state="returning")]
    s = summarize(rows, BOARD, 10, "n", "b", 0.04, {"seed": 3})
    assert s["max_theta_deg"] == 29.0
    assert s["max_over_cap_deg"] == pytest.approx(-25.0)
    assert s["final_state"] == "returning"
    assert s["max_setpoint_rate_deg_s"] == 6.0 and s["max_setpoint_accel_deg_s2"] == 5.0
    assert s["faults"] == [{"code": "imu_freeze", "t_s": 0.03}]
    assert s["inverted_s"] == pytest.approx(0.03)
    assert s["seed"] == 3 and s["name"] == "n" and s["board"] == "b"
    gap = summarize(rows, BOARD, 10, gap={"max_theta_deg": 70.0, "max_over_cap_deg": 10.0})
    assert gap["max_theta_deg"] == 70.0 and gap["max_over_cap_deg"] == 10.0


def test_summary_of_no_rows():
    s = summarize([], BOARD, 10)
    assert s["final_state"] is None and s["emergencies"] == [] and s["inverted_s"] == 0.0


def test_ideal_return_from_60_matches_the_closed_form():
    # 0->10 deg/s in 1 s (5 deg), 10->6 deg/s in 0.4 s (3.2 deg), cruise 51.8 deg at 10;
    # below 0: 66.4 deg at 6 deg/s, 6->0 at 5 deg/s^2 in 1.2 s (3.6 deg)
    closed = 1.0 + 5.18 + 0.4 + 66.4 / 6 + 1.2
    assert ideal_return_s(60, -70, 6) == pytest.approx(closed, abs=0.02)
    assert ideal_return_s(-70, -70, 6) == 0.0
