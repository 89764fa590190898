"""Brake board: a balanced table the person's arms move and the brake governs."""
import pytest

from simrig import BRAKE


def test_arms_down_at_home_rests_on_the_stop(rig_factory):
    rig = rig_factory(BRAKE)
    rig.release_brake()
    trace = rig.run(3.0)
    assert min(trace) >= rig.board["mech_min_deg"]
    assert trace[-1] <= rig.board["home_deg"]      # foot-heavy: stays head-up


def test_arms_up_brake_released_turns_head_down(rig_factory):
    rig = rig_factory(BRAKE)
    rig.plant.set_arms(True)
    held = rig.run(2.0)                             # brake engaged: no motion
    assert max(held) - min(held) == 0.0
    rig.release_brake()
    trace = rig.run(4.0)
    assert trace[-1] > trace[0] + 30.0
    assert rig.plant.rate_deg_s > 5.0


def test_engaged_brake_holds_after_its_delay(rig_factory):
    rig = rig_factory(BRAKE, theta_deg=0.0)
    rig.plant.set_arms(True)
    rig.release_brake()
    rig.run(1.0)
    rig.release_brake(False)
    engage_ms = rig.board["brake"]["engage_ms"]
    still_moving = rig.run(engage_ms / 1000.0 - rig.tick_ms / 1000.0)
    assert not rig.plant.brake_engaged
    assert still_moving[-1] > still_moving[0]
    rig.run(0.2)
    assert rig.plant.brake_engaged
    hold = rig.run(5.0)
    assert max(hold) - min(hold) == 0.0


def test_brake_slip_creeps_slowly(rig_factory):
    rig = rig_factory(BRAKE, theta_deg=20.0)
    rig.plant.set_arms(True)
    rig.run(1.5)                                    # arms up, brake holding
    rig.plant.inject_fault("brake_slip")
    creep = rig.run(1.0)
    slip_rate = (creep[-1] - creep[0]) / 1.0
    rig.plant.clear_fault("brake_slip")
    rig.plant.set_theta(creep[0])
    rig.release_brake()
    free = rig.run(1.0)
    free_rate = (free[-1] - free[0]) / 1.0
    assert slip_rate > 0.2
    assert slip_rate < free_rate / 2.0


def test_arms_down_brings_it_back(rig_factory):
    rig = rig_factory(BRAKE, theta_deg=40.0)
    rig.release_brake()
    trace = rig.run(10.0)
    assert trace[-1] < 0.0


def test_mechanical_stops_never_exceeded(rig_factory):
    rig = rig_factory(BRAKE, theta_deg=80.0)
    rig.plant.set_arms(True)
    rig.release_brake()
    trace = rig.run(20.0)
    assert max(trace) <= rig.board["mech_max_deg"]
    rig.plant.set_arms(False)
    rig.plant.set_theta(-40.0)
    trace = rig.run(20.0)
    assert min(trace) >= rig.board["mech_min_deg"]


def test_heavier_person_same_balance_direction(rig_factory):
    rig = rig_factory(BRAKE, theta_deg=0.0, person={"mass_kg": 130, "height_cm": 190})
    rig.plant.set_arms(True)
    rig.release_brake()
    trace = rig.run(2.0)
    assert trace[-1] > 5.0


@pytest.mark.parametrize("kind", ["actuator_stall", "actuator_runaway", "position_sensor_open",
                                  "link_noise"])
def test_faults_that_do_not_apply_here(rig_factory, kind):
    rig = rig_factory(BRAKE)
    assert rig.plant.inject_fault(kind) is False


def test_unknown_fault_is_refused(rig_factory):
    rig = rig_factory(BRAKE)
    with pytest.raises(ValueError):
        rig.plant.inject_fault("gremlins")
