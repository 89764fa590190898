"""invertctl without a board: one-line errors (no tracebacks) for a missing
port, a wrong device, a timeout; key and counter handling; plot; deploy's
staging; flash's checks; the console-script declaration."""
import json
import os
import sys
import threading

import pytest

from hosthelp import REPO, invertctl
from host_tools import cli, keys, protocol
from host_tools.link import Link, LinkError, LinkTimeout, WrongDevice


def one_line_error(r, *words):
    assert r.returncode == 1, (r.stdout, r.stderr)
    err = r.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith("invertctl: error: "), err
    for w in words:
        assert w in err, err


def test_no_port_and_missing_port(tmp_path):
    one_line_error(invertctl(tmp_path, "status"), "no serial port", "INVERTCTL_PORT")
    one_line_error(invertctl(tmp_path, "--port", "/dev/ttyUSB97", "status"), "does not exist")
    one_line_error(invertctl(tmp_path, "--port", "/dev/ttyUSB97", "stop"), "does not exist")
    one_line_error(invertctl(tmp_path, "--port", "/dev/ttyUSB97", "run", "beginner"),
                   "does not exist")


class FakeDevice:
    """The other end of a pseudo-terminal: silent, or talking nonsense, or
    answering only HELLO (then nothing: a timeout)."""

    def __init__(self, mode):
        self.master, slave = os.openpty()
        import tty
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        self._slave = slave
        self.mode = mode
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        import select
        buf = b""
        while self.running:
            r, _, _ = select.select([self.master], [], [], 0.05)
            if not r:
                continue
            try:
                data = os.read(self.master, 1024)
            except OSError:
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if self.mode == "junk":
                    os.write(self.master, b"\r\nMicroPython v1.22 on esp32\r\n>>> ")
                elif self.mode == "hello-only" and b" HELLO " in line:
                    seq = line.split(b" ")[0].decode()
                    os.write(self.master, protocol.frame(seq, "OK proto=1 fw=x board=y key=0"))

    def close(self):
        self.running = False
        self.thread.join(1)
        os.close(self.master)
        os.close(self._slave)


@pytest.mark.parametrize("mode,words", [("silent", ["no answer", "no inversion-table"]),
                                        ("junk", ["does not speak"])])
def test_wrong_device(tmp_path, mode, words):
    dev = FakeDevice(mode)
    try:
        r = invertctl(tmp_path, "--port", dev.port, "--timeout", "0.3", "status")
        one_line_error(r, *words)
    finally:
        dev.close()


def test_timeout_is_one_line(tmp_path):
    dev = FakeDevice("hello-only")
    try:
        r = invertctl(tmp_path, "--port", dev.port, "--timeout", "0.3", "status")
        one_line_error(r, "timeout", "STATUS")
    finally:
        dev.close()


def test_link_classes_directly():
    dev = FakeDevice("hello-only")
    link = Link.open(dev.port)
    try:
        assert link.hello(0.5)["board"] == "y"
        with pytest.raises(LinkTimeout):
            link.request("STATUS", timeout=0.2)
    finally:
        link.close()
        dev.close()
    dev = FakeDevice("silent")
    link = Link.open(dev.port)
    try:
        with pytest.raises(WrongDevice):
            link.hello(0.2)
    finally:
        link.close()
        dev.close()


def test_keys_and_counters(tmp_path):
    raw = tmp_path / "k.bin"
    keys.new_key(str(raw))
    assert len(raw.read_bytes()) == 32 and (raw.stat().st_mode & 0o777) == 0o600
    with pytest.raises(LinkError):
        keys.new_key(str(raw))
    assert keys.load_key(str(raw)) == raw.read_bytes()
    hexfile = tmp_path / "k.hex"
    hexfile.write_text(raw.read_bytes().hex() + "\n")
    assert keys.load_key(str(hexfile)) == raw.read_bytes()
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"short")
    with pytest.raises(LinkError, match="32 bytes"):
        keys.load_key(str(bad))
    with pytest.raises(LinkError, match="cannot read"):
        keys.load_key(str(tmp_path / "none.bin"))
    store = keys.CounterStore(str(tmp_path / "sub" / "state.json"))
    key = raw.read_bytes()
    assert store.next(key) == 1
    assert store.next(key) == 2
    assert store.next(key, board_last=10) == 11       # the board knows a later one
    assert store.next(bytes(32)) == 1                 # per key
    assert keys.CounterStore(store.path).last(key) == 11


def test_assignments():
    assert cli.parse_assignment("level=2") == ("level", 2)
    assert cli.parse_assignment("full_inversion=true") == ("full_inversion", True)
    assert cli.parse_assignment("rate_deg_s=4.5") == ("rate_deg_s", 4.5)
    assert cli.parse_assignment("contraindications=vertigo,glaucoma") == \
        ("contraindications", ["vertigo", "glaucoma"])
    assert cli.parse_assignment("contraindications=") == ("contraindications", [])
    assert cli.parse_assignment("cap_deg=")[1] is cli._DELETE
    with pytest.raises(LinkError):
        cli.parse_assignment("level")


def test_sign_matches_the_firmware():
    sys.path.insert(0, os.path.join(REPO, "firmware"))
    from link.auth import hmac_sha256
    key = bytes(range(32))
    text = protocol.sign('PROFILE SET {"level":1}', 42, key)
    assert text.endswith(hmac_sha256(key, b'42 PROFILE SET {"level":1}').hex())


def test_plot_a_trace_and_a_recorded_monitor_csv(tmp_path):
    trace = tmp_path / "trace.csv"
    rows = ["t_s,theta_deg,setpoint_deg,cap_deg,state"]
    for i in range(200):
        st = "moving" if i < 100 else "holding" if i < 150 else "emergency_return"
        rows.append("%.2f,%.2f,%.2f,60,%s" % (i / 10, -70 + i * 0.5, -70 + i * 0.5, st))
    trace.write_text("\n".join(rows) + "\n")
    r = invertctl(tmp_path, "plot", "trace.csv", "-o", "trace.png")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "trace.png").read_bytes()[:4] == b"\x89PNG"
    log = tmp_path / "log.csv"
    log.write_text("when,angle,note\n1,2.5,a\n2,3.5,b\n")
    r = invertctl(tmp_path, "plot", "log.csv")
    assert r.returncode == 0 and (tmp_path / "log.png").exists(), r.stderr
    (tmp_path / "empty.csv").write_text("a,b\n")
    one_line_error(invertctl(tmp_path, "plot", "empty.csv"), "no data rows")
    one_line_error(invertctl(tmp_path, "plot", "missing.csv"), "cannot read")


def test_deploy_dry_run_compiles_for_the_esp32(tmp_path):
    key = tmp_path / "device_key.bin"
    key.write_bytes(bytes(32))
    r = invertctl(tmp_path, "deploy", "--dry-run", "--key", str(key), "--stage-dir", "stage",
                  timeout=300)
    assert r.returncode == 0, r.stderr
    stage = tmp_path / "stage"
    assert (stage / "main.py").exists() and (stage / "app.mpy").exists()
    assert (stage / "link" / "server.mpy").exists()
    assert json.loads((stage / "board.json").read_text())["name"] == "esp32-devkitc-actuator"
    assert (stage / "device_key.bin").read_bytes() == bytes(32)
    assert "mpremote" in r.stdout and "fs cp -r" in r.stdout and "+ reset" in r.stdout
    assert not list(stage.rglob("*.py"))[1:]          # only main.py stays source


def test_deploy_and_flash_errors(tmp_path):
    key = tmp_path / "k.bin"
    key.write_bytes(bytes(32))
    one_line_error(invertctl(tmp_path, "deploy"), "no device key")
    one_line_error(invertctl(tmp_path, "deploy", "--key", str(key)), "no serial port")
    one_line_error(invertctl(tmp_path, "--port", "/dev/ttyUSB97", "deploy", "--key", str(key)),
                   "no board on /dev/ttyUSB97")
    one_line_error(invertctl(tmp_path, "deploy", "--dry-run", "--key", str(key), "--board",
                             "nope"), "unknown board nope")
    one_line_error(invertctl(tmp_path, "--port", "/dev/ttyUSB97", "flash"), "no image")
    one_line_error(invertctl(tmp_path, "--port", "/dev/ttyUSB97", "flash", "--image", "x.bin"),
                   "does not exist")
    img = tmp_path / "mp.bin"
    img.write_bytes(bytes(200000))
    one_line_error(invertctl(tmp_path, "--port", "/dev/ttyUSB97", "flash", "--image", str(img)),
                   "no board on /dev/ttyUSB97")
    one_line_error(invertctl(tmp_path, "--port", "/dev/ttyUSB97", "flash", "--image", str(img),
                             "--chip", "z80"), "unknown chip")


def test_console_script_is_declared():
    try:
        import tomllib
    except ImportError:
        pytest.skip("tomllib needs Python 3.11")
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
        meta = tomllib.load(f)
    target = meta["project"]["scripts"]["invertctl"]
    module, func = target.split(":")
    assert module == "host_tools.cli" and callable(getattr(cli, func))


def test_help_and_usage_errors(tmp_path):
    r = invertctl(tmp_path, "--help")
    assert r.returncode == 0 and "monitor" in r.stdout and "deploy" in r.stdout
    r = invertctl(tmp_path, "jog", "sideways")
    assert r.returncode == 2
