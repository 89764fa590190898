"""A profile edit on the PC, checked with the board's own schema.

`invertctl profile set KEY=VALUE ...` reads the stored profile (PROFILE
GET), applies the edits and checks the result with
firmware/profile_schema.py, the very file the board checks PROFILE SET
with, before it signs anything: a typo or a value out of range is refused
here, naming the field, and no counter is spent.

    edits = [parse_assignment("level=4"), parse_assignment("cap_deg=")]
    check_edits(edits)                      # LinkError naming the field
    profile = apply_edits(stored, edits)    # the clean profile to send

The schema is not copied into host_tools: it is imported from the
firmware/ folder beside host_tools, the folder `deploy` compiles for the
board. So invertctl runs from the project's checkout (`pip install -e .`,
as `make setup` does, or `python -m host_tools`); README, Dependencies.
"""
import json
import os
import sys

from .deploy import FIRMWARE_DIR
from .link import LinkError

# The value of a `KEY=` edit: remove the key (its beginner default applies).
DELETE = object()
_SCHEMA_FILE = "profile_schema.py"


def schema(firmware_dir=FIRMWARE_DIR):
    """The firmware's profile_schema module."""
    if not os.path.isfile(os.path.join(firmware_dir, _SCHEMA_FILE)):
        raise LinkError("the board's profile schema (%s) is not in %s: run invertctl from "
                        "the project's checkout (pip install -e .)" % (_SCHEMA_FILE, firmware_dir))
    # On the path only for this import (it imports safety.spec and
    # safety.limits from the same folder): the firmware's top-level names
    # must not shadow anything this process imports later.
    added = firmware_dir not in sys.path
    if added:
        sys.path.insert(0, firmware_dir)
    try:
        import profile_schema
    finally:
        if added:
            sys.path.remove(firmware_dir)
    return profile_schema


def parse_assignment(text):
    """("key", value) from "key=value": text keys keep the text as it is, list
    keys take comma-separated items, others read it as JSON (2, 4.5, true),
    falling back to the text; "key=" is (key, DELETE)."""
    if "=" not in text:
        raise LinkError("expected KEY=VALUE, got %r" % text)
    name, value = text.split("=", 1)
    name = name.strip()
    if not name:
        raise LinkError("expected KEY=VALUE, got %r" % text)
    sc = schema()
    kind = sc.FIELDS.get(name, (None,))[0]
    if kind == sc.LIST:
        return name, [v.strip() for v in value.split(",") if v.strip()]
    if value == "":
        return name, DELETE
    if kind == sc.TEXT:
        return name, value
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value


def _refusal(bad):
    key, item, message = bad
    return "profile not sent: %s%s: %s" % (key, "[%d]" % item if item >= 0 else "", message)


def check_edits(edits):
    """Each edit on its own, before the board is asked anything."""
    sc = schema()
    for name, value in edits:
        if value is DELETE:
            if name not in sc.FIELDS:
                raise LinkError(_refusal((name, -1, "unknown key")))
            continue
        clean, bad = sc.check({name: value})
        if clean is None:
            raise LinkError(_refusal(bad))


def apply_edits(stored, edits):
    """The stored profile with the edits applied, as the schema's clean copy
    (what PROFILE SET will accept); LinkError naming the field if not."""
    profile = dict(stored)
    for name, value in edits:
        if value is DELETE:
            profile.pop(name, None)
        else:
            profile[name] = value
    clean, bad = schema().check(profile)
    if clean is None:
        raise LinkError(_refusal(bad))
    return clean
