"""A clinician's profile round trip over the link, on a board with flash:
PROFILE GET gives the stored profile, an edit of it goes back signed and is
accepted, and level 4 without full_inversion is such a profile, capped at 60
(SPEC R1, R3). A refused edit names the field and changes nothing."""
import json
import sys

from linkrig import LinkRig
from simulator.flash import FlashFs


def idle_board(profile=None):
    """A fresh board as main.py boots it: the profile from its own flash."""
    flash = FlashFs(0)
    from session.storage import Storage
    from session import profiles
    if profile is not None:
        profiles.save(Storage(flash), profile)
    stored, _note = profiles.load(Storage(flash))
    rig = LinkRig(profile=stored, flash=flash)
    rig.run_until(lambda r: r.core.state == "idle", 300)
    rig.run(50)             # heartbeats arriving: the cap in force is the profile's
    return rig, flash


def stored_on_flash(flash):
    from session.storage import Storage
    from session import profiles
    return profiles.load(Storage(flash))[0]


def get(rig):
    msg = rig.call("PROFILE GET")
    assert msg.ok, msg
    return json.loads(msg.text)


def set_signed(rig, profile, counter):
    text = "PROFILE SET " + json.dumps(profile, separators=(",", ":"), sort_keys=True)
    return rig.call(rig.signed(text, counter))


def cap_in_force_deg(rig):
    rig.run(5)              # the supervisor takes up new limits on its next tick
    msg = rig.call("STATUS")
    assert msg.ok, msg
    return float(msg.fields["cap"])


def test_level_4_round_trip_from_a_fresh_board():
    rig, flash = idle_board()
    # Nothing stored: the beginner profile, name included, is what GET shows.
    profile = get(rig)
    assert profile == {"name": "beginner", "level": 0}
    # What `invertctl profile set level=4` does: GET, edit, SET signed.
    profile["level"] = 4
    msg = set_signed(rig, profile, 1)
    assert msg.ok, msg
    assert msg.fields["cap"] == "60.000" and msg.fields["ctr"] == "1"
    assert rig.app.limits.cap_mdeg == 60000 and cap_in_force_deg(rig) == 60.0
    assert get(rig) == {"name": "beginner", "level": 4}
    assert stored_on_flash(flash) == {"name": "beginner", "level": 4}
    # The stored profile read back, edited again, accepted again.
    profile = get(rig)
    profile.update(preferred_angle=60, hold_s=120, name="Ann B")
    msg = set_signed(rig, profile, 2)
    assert msg.ok, msg
    assert get(rig) == profile == stored_on_flash(flash)
    assert cap_in_force_deg(rig) == 60.0
    # The clinician's unlock on top of level 4: above 60, up to 90 minus the
    # board's mechanical margin.
    profile = dict(get(rig), full_inversion=True)
    msg = set_signed(rig, profile, 3)
    assert msg.ok, msg
    board_cap_deg = min(90, rig.board["mech_max_deg"] - 1)
    assert rig.app.limits.cap_mdeg == board_cap_deg * 1000
    assert cap_in_force_deg(rig) == board_cap_deg
    assert get(rig) == profile == stored_on_flash(flash)


def test_get_shows_the_stored_profile_not_what_progression_made_of_it():
    stored = {"name": "bo", "level": 4, "preferred_angle": 40}
    rig, flash = idle_board(stored)
    assert rig.app.limits.cap_mdeg == 60000
    assert get(rig) == stored
    msg = set_signed(rig, get(rig), 1)        # the unchanged round trip is accepted
    assert msg.ok, msg
    assert get(rig) == stored == stored_on_flash(flash)


def test_a_refused_edit_names_the_field_and_changes_nothing():
    rig, flash = idle_board({"level": 2, "hold_s": 90})
    before = (get(rig), rig.app.auth_counter, rig.app.limits.cap_mdeg, flash.image())
    for profile, field in (
            ({"level": 4, "hold_s": 0}, "hold_s"),
            ({"level": 4, "contraindications": ["vertigo", "vertigo"]}, "contraindications"),
            ({"level": 4, "full_inversion": "yes"}, "full_inversion"),
            ({"level": 4, "lvl": 4}, "lvl"),
            ({"level": 4, "name": "a,b"}, "name")):
        msg = set_signed(rig, profile, 1)
        assert (msg.kind, msg.code) == ("ERR", "value"), msg
        assert msg.text.startswith(field + ":"), msg.text
        assert (get(rig), rig.app.auth_counter, rig.app.limits.cap_mdeg,
                flash.image()) == before
    assert set_signed(rig, {"level": 4}, 1).ok      # the counter was not spent


class ImportWatch:
    """Records every import of one module name (sys.meta_path observer: it
    finds nothing itself, the normal import goes on)."""

    def __init__(self, name):
        self.name = name
        self.seen = 0

    def find_spec(self, fullname, path=None, target=None):
        if fullname == self.name:
            self.seen += 1
        return None


def test_while_the_bed_moves_a_profile_is_refused_unread():
    # Loading the schema takes milliseconds on the board: only at rest.
    rig = LinkRig(profile={"level": 3, "preferred_angle": 20, "rate_deg_s": 6})
    rig.run_until(lambda r: r.core.state == "idle", 300)
    rig.start("beginner")
    rig.run_until(lambda r: r.core.state == "holding", 6000)
    watch = ImportWatch("profile_schema")
    sys.meta_path.insert(0, watch)
    try:
        for text in ('PROFILE SET {"level":4}', 'PROFILE SET {"level":9}'):
            msg = rig.call(rig.signed(text, 1))
            assert (msg.kind, msg.code) == ("ERR", "state"), msg
            rig.run(3)
        assert watch.seen == 0
        rig.run_until(lambda r: r.core.state == "idle", 20000)
        assert rig.call(rig.signed('PROFILE SET {"level":4}', 1)).ok
        assert watch.seen == 1
    finally:
        sys.meta_path.remove(watch)
