"""`invertctl profile set` against the simulated board, and offline: it
edits the stored profile (PROFILE GET), checks the edit with the board's own
schema (firmware/profile_schema.py) and sends it signed. Level 4 without
full_inversion is accepted and capped at 60; a bad edit is refused on the PC,
naming the field, before any counter is spent."""
import json
import time

import pytest

from hosthelp import Served, invertctl
from host_tools import profile_edit
from host_tools.link import LinkError


@pytest.fixture
def served(tmp_path):
    s = Served(tmp_path)
    yield s
    s.stop()


def show(served):
    r = invertctl(served.tmp, "--port", served.port, "profile", "show")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout[:r.stdout.rindex("}") + 1])


def status(served):
    r = invertctl(served.tmp, "--port", served.port, "status", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["status"]


def ctr(served):
    return status(served)["ctr"]


def wait_idle(served, timeout_s=30):
    """A profile is set only at rest: past the boot checks."""
    deadline = time.monotonic() + timeout_s
    while status(served)["st"] != "idle":
        assert time.monotonic() < deadline, "the board never became idle"
        time.sleep(0.3)


def test_level_4_round_trips_through_invertctl(served):
    wait_idle(served)
    before = show(served)
    assert before["cap_deg"] == 5           # the served scenario's own cap
    # level=4 and the scenario's cap removed: the profile's cap is 60.
    r = invertctl(served.tmp, "--port", served.port, "profile", "set", "level=4", "cap_deg=",
                  "--key", "key.bin")
    assert r.returncode == 0, r.stderr
    assert "cap=60.000" in r.stdout, r.stdout
    expected = dict(before, level=4)
    expected.pop("cap_deg")
    assert show(served) == expected
    # The next edit starts from what the board stored, and is accepted too.
    r = invertctl(served.tmp, "--port", served.port, "profile", "set", "name=Ann B",
                  "preferred_angle=60", "--key", "key.bin")
    assert r.returncode == 0, r.stderr
    assert "cap=60.000" in r.stdout, r.stdout
    assert show(served) == dict(expected, name="Ann B", preferred_angle=60)
    r = invertctl(served.tmp, "--port", served.port, "profile", "set", "full_inversion=true",
                  "--key", "key.bin")
    assert r.returncode == 0, r.stderr
    assert "cap=90.000" in r.stdout, r.stdout       # the hard cap (the stop is at 92)
    assert ctr(served) == "3"


def test_a_bad_edit_is_refused_on_the_pc_naming_the_field(served):
    before = show(served)
    for edit, words in (("level=5", "level: 5 is outside 0-4"),
                        ("hold_s=0", "hold_s: 0 is outside (0, 300]"),
                        ("contraindications=vertigo,vertigo", "contraindications[1]"),
                        ("full_inversion=yes", "full_inversion: expected true or false"),
                        ("lvl=4", "lvl: unknown key"),
                        ("lvl=", "lvl: unknown key")):
        r = invertctl(served.tmp, "--port", served.port, "profile", "set", "level=4", edit,
                      "--key", "key.bin")
        assert r.returncode == 1, (edit, r.stdout)
        assert r.stderr.startswith("invertctl: error: profile not sent: " + words), r.stderr
        assert "Traceback" not in r.stderr
    assert show(served) == before and ctr(served) == "0"


def test_the_edit_is_checked_before_the_port_is_opened(tmp_path):
    r = invertctl(tmp_path, "--port", "/dev/ttyUSB97", "profile", "set", "rate_deg_s=9")
    assert r.returncode == 1
    assert r.stderr.startswith("invertctl: error: profile not sent: rate_deg_s: 9 is outside "
                               "[0.5, 6]"), r.stderr


def test_edits_follow_the_schema_kinds():
    assert profile_edit.parse_assignment("name=Ann 7") == ("name", "Ann 7")
    assert profile_edit.parse_assignment("name=12") == ("name", "12")
    assert profile_edit.parse_assignment("level=4") == ("level", 4)
    assert profile_edit.apply_edits({"name": "beginner", "level": 0},
                                    [("level", 4), ("name", "12")]) == {"name": "12", "level": 4}
    assert profile_edit.apply_edits({"level": 2, "cap_deg": 40},
                                    [("cap_deg", profile_edit.DELETE)]) == {"level": 2}
    assert profile_edit.apply_edits({"contraindications": ["vertigo"]},
                                    [("override_cap_deg", None)]) == \
        {"contraindications": ["vertigo"]}
    with pytest.raises(LinkError, match="profile not sent: level: expected an integer, got 2.5"):
        profile_edit.apply_edits({}, [("level", 2.5)])


def test_without_the_firmware_folder_invertctl_says_where_to_run_it(tmp_path):
    with pytest.raises(LinkError, match="not in .*: run invertctl from the project's checkout"):
        profile_edit.schema(str(tmp_path))
