"""Atomic checksummed records (session/storage.py) and the emulated flash."""
import binascii
import os

import pytest
from hypothesis import given, settings, strategies as st

from simulator.flash import FlashFs, PowerLost
from session import storage
from session.storage import Storage, BoardFs, StorageError


@pytest.fixture(params=[True, False], ids=["littlefs", "fat"])
def fs(request):
    return FlashFs(seed=1, rename_replaces=request.param)


def test_round_trip_and_missing(fs):
    s = Storage(fs)
    assert s.read("a") == (None, "missing")
    s.write("a", b"hello")
    assert s.read("a") == (b"hello", "ok")
    s.write("a", b"")
    assert s.read("a") == (b"", "ok")
    s.write("a", bytes(range(256)) * 5)
    assert s.read("a") == (bytes(range(256)) * 5, "ok")
    assert fs.listdir() == ["a"]


def test_every_flipped_byte_reads_as_corrupt(fs):
    s = Storage(fs)
    s.write("rec", b"level=3")
    size = fs.size("rec")
    for i in range(size):
        f = FlashFs.from_image(fs.image())
        f.corrupt("rec", i)
        assert Storage(f).read("rec") == (None, "corrupt"), i


def test_truncated_or_extended_record_is_corrupt(fs):
    s = Storage(fs)
    s.write("rec", b"0123456789")
    for cut in range(fs.size("rec")):
        f = FlashFs.from_image({"rec": fs.image()["rec"][:cut]})
        assert Storage(f).read("rec") == (None, "corrupt"), cut
    f = FlashFs.from_image({"rec": fs.image()["rec"] + b"x"})
    assert Storage(f).read("rec") == (None, "corrupt")


def test_recovery_rule_pending_copy_when_the_record_is_gone(fs):
    s = Storage(fs)
    s.write("rec", b"old")
    # The state a FAT board leaves after removing the old copy, before the rename.
    image = fs.image()
    image["rec.new"] = storage.header(b"new") + b"new"
    del image["rec"]
    f = FlashFs.from_image(image)
    assert Storage(f).read("rec") == (b"new", "recovered")
    # The next write promotes it first, so a cut in that write cannot lose it.
    f.cut_at(2)
    with pytest.raises(PowerLost):
        Storage(f).write("rec", b"newer")
    f.power_on()
    assert Storage(f).read("rec")[0] in (b"new", b"newer")
    assert f.size("rec") is not None


def test_pending_copy_is_ignored_while_the_record_is_valid(fs):
    s = Storage(fs)
    s.write("rec", b"old")
    image = fs.image()
    image["rec.new"] = storage.header(b"new") + b"new"
    assert Storage(FlashFs.from_image(image)).read("rec") == (b"old", "ok")


def test_torn_first_write_reads_as_missing(fs):
    image = {"rec.new": (storage.header(b"payload") + b"payload")[:9]}
    assert Storage(FlashFs.from_image(image)).read("rec") == (None, "missing")


def test_cut_at_every_point_of_one_write(fs):
    s = Storage(fs)
    s.write("rec", b"A" * 600)
    image = fs.image()
    points = 0
    probe = FlashFs.from_image(image, 0, fs.rename_replaces)
    Storage(probe).write("rec", b"B" * 700)
    points = probe.points
    assert points >= 5      # open, header, 3 chunks, rename (and FAT's remove)
    for n in range(1, points + 1):
        for seed in range(10):
            f = FlashFs.from_image(image, seed, fs.rename_replaces)
            f.cut_at(n)
            with pytest.raises(PowerLost):
                Storage(f).write("rec", b"B" * 700)
            f.power_on()
            assert Storage(f).read("rec")[0] in (b"A" * 600, b"B" * 700)


def test_verify_failure_keeps_the_old_record(fs):
    s = Storage(fs)
    s.write("rec", b"old")

    class Flaky:
        # Flash that drops the last byte of every write.
        def __init__(self, inner):
            self.inner = inner

        def open(self, name, mode):
            f = self.inner.open(name, mode)
            if "w" in mode:
                real = f.write
                f.write = lambda data: real(bytes(data)[:-1])
            return f

        def __getattr__(self, name):
            return getattr(self.inner, name)

    with pytest.raises(StorageError):
        Storage(Flaky(fs)).write("rec", b"new")
    assert s.read("rec") == (b"old", "ok")
    assert fs.listdir() == ["rec"]


def test_remove_drops_record_and_pending_copy(fs):
    s = Storage(fs)
    s.write("rec", b"x")
    fs.files["rec.new"] = bytearray(b"junk")
    s.remove("rec")
    assert s.read("rec") == (None, "missing")
    assert fs.listdir() == []


def test_software_crc_matches_binascii():
    for data in (b"", b"a", b"123456789", bytes(range(256)) * 3):
        assert storage._crc32_soft(data) == binascii.crc32(data)
        assert storage.crc32(data) == binascii.crc32(data)


def test_board_fs_on_the_host_filesystem(tmp_path):
    root = str(tmp_path / "data")
    s = Storage(BoardFs(root))
    assert os.path.isdir(root)
    assert s.read("profile") == (None, "missing")
    s.write("profile", b"{}")
    s.write("profile", b'{"level": 1}')
    assert s.read("profile") == (b'{"level": 1}', "ok")
    assert sorted(os.listdir(root)) == ["profile"]
    assert BoardFs(root).size("nothing") is None


# -- the emulated flash itself ---------------------------------------------------------

def _scripted(seed, cut):
    f = FlashFs(seed)
    f.cut_at(cut)
    try:
        for i in range(6):
            with f.open("f%d" % (i % 2), "wb") as h:
                h.write(b"x" * (50 + i))
                h.write(b"y" * 30)
            f.rename("f%d" % (i % 2), "g%d" % i)
    except PowerLost:
        pass
    return f.image(), f.points


def test_flash_is_deterministic_per_seed():
    assert _scripted(5, 9) == _scripted(5, 9)
    torn = {_scripted(seed, 2)[0]["f0"] for seed in range(20)}
    assert len(torn) > 3        # the torn prefix varies with the seed


def test_flash_cut_loses_everything_after():
    f = FlashFs(3)
    f.cut_at(2)
    h = f.open("a", "wb")                      # point 1
    with pytest.raises(PowerLost):
        h.write(b"abcdef")                     # point 2: torn
    assert f.files["a"] in [bytearray(b"abcdef"[:k]) for k in range(7)]
    for action in (lambda: h.write(b"more"), lambda: f.open("b", "wb"),
                   lambda: f.rename("a", "b"), lambda: f.remove("a"), f.listdir,
                   lambda: f.size("a")):
        with pytest.raises(PowerLost):
            action()
    f.power_on()
    assert f.listdir() == ["a"]
    assert f.points == 2 and f.cuts == 1


def test_flash_fat_mode_refuses_rename_onto_a_file():
    f = FlashFs(0, rename_replaces=False)
    for name in ("a", "b"):
        with f.open(name, "wb") as h:
            h.write(name.encode())
    with pytest.raises(OSError):
        f.rename("a", "b")
    lfs = FlashFs.from_image(f.image())
    lfs.rename("a", "b")
    assert lfs.image() == {"b": b"a"}


@settings(max_examples=80, deadline=None)
@given(payloads=st.lists(st.binary(max_size=900), min_size=1, max_size=6),
       cut=st.integers(0, 40), seed=st.integers(0, 2 ** 31), fat=st.booleans())
def test_any_write_sequence_with_a_cut_reads_old_or_in_flight(payloads, cut, seed, fat):
    f = FlashFs(seed, rename_replaces=not fat)
    s = Storage(f)
    f.cut_at(cut)
    committed = None
    in_flight = None
    try:
        for p in payloads:
            in_flight = p
            s.write("rec", p)
            committed = p
            in_flight = None
    except PowerLost:
        pass
    f.power_on()
    payload, reason = s.read("rec")
    assert reason in ("ok", "recovered", "missing")
    assert payload in (committed, in_flight)
