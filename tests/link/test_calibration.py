"""Calibration over the link: signed, only with the table still, checked,
stored atomically and in force after a reboot."""
from linkrig import LinkRig

from simulator.flash import FlashFs


def _rig(flash, theta_deg):
    rig = LinkRig(profile={"level": 3}, flash=flash, theta_deg=theta_deg)
    rig.run_until(lambda r: r.core.state == "idle", 300)
    return rig


def test_level_is_refused_unless_the_bed_is_level():
    rig = _rig(FlashFs(1), -70.0)
    msg = rig.call(rig.signed("CAL LEVEL", 1))
    assert msg.code == "state" and "level it first" in msg.text
    assert rig.core.imu_offset_mdeg == 0


def test_level_offset_is_stored_and_survives_a_reboot():
    flash = FlashFs(2)
    rig = _rig(flash, 0.0)
    before = rig.core.estimator.theta_udeg // 1000
    msg = rig.call(rig.signed("CAL LEVEL", 1))
    assert msg.ok, msg
    assert rig.core.imu_offset_mdeg == before
    rig.run(50)
    assert abs(rig.core.theta_mdeg) < 100          # reads level now
    again = _rig(flash, 0.0)
    assert again.core.imu_offset_mdeg == before
    assert again.app.auth_counter == 1             # the replay counter came back too
    assert again.call(again.signed("CAL LEVEL", 1)).code == "auth"


def test_position_table_from_points_is_checked_then_stored():
    flash = FlashFs(3)
    rig = _rig(flash, -10.0)
    # One point is no table.
    assert rig.call(rig.signed("CAL POINT", 1)).ok
    refused = rig.call(rig.signed("CAL SAVE", 2))
    assert refused.code == "state" and "at least 2 points" in refused.text
    rig2 = _rig(flash, -45.0)
    assert rig2.call(rig2.signed("CAL POINT", 3)).ok
    rig2.app._cal_points.insert(0, list(rig.app._cal_points[0]))
    saved = rig2.call(rig2.signed("CAL SAVE", 4))
    assert saved.ok, saved
    # After a reboot the measured table is the one in force.
    rig3 = _rig(flash, -45.0)
    raws = sorted([rig.app._cal_points[0][0], rig2.dev.position.raw])
    assert abs(rig3.dev.position._cal_raw[0] - raws[0]) <= 20
    assert abs(rig3.dev.position._cal_raw[1] - raws[1]) <= 20
    assert abs(rig3.dev.position.angle_mdeg + 45000) < 1500
