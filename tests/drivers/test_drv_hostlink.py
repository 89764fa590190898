"""Host link framing: complete lines, oversize lines dropped whole."""
import pytest

from drivers.hostlink import HostLink


@pytest.fixture
def rig(machine):
    uart = machine.UART(0, 115200)
    lines = []
    return HostLink(uart, line_bytes=16), uart, lines, lambda buf, n: lines.append(bytes(buf[:n]))


def test_lines_delivered_without_newline(rig):
    link, uart, lines, on_line = rig
    uart.feed(b"hb\nstatus\r\n")
    assert link.poll(on_line) == 2
    assert lines == [b"hb", b"status\r"]


def test_partial_line_waits_for_newline(rig):
    link, uart, lines, on_line = rig
    uart.feed(b"sta")
    assert link.poll(on_line) == 0
    uart.feed(b"rt\n")
    link.poll(on_line)
    assert lines == [b"start"]


def test_oversize_line_dropped_whole_and_counted(rig):
    link, uart, lines, on_line = rig
    uart.feed(b"x" * 40 + b"\nok\n")
    link.poll(on_line)
    assert lines == [b"ok"]
    assert link.oversize_count == 1


def test_oversize_across_polls(rig):
    link, uart, lines, on_line = rig
    uart.feed(b"y" * 20)
    link.poll(on_line)
    uart.feed(b"yyy\nnext\n")
    link.poll(on_line)
    assert lines == [b"next"]
    assert link.oversize_count == 1


def test_line_of_exact_capacity_fits(rig):
    link, uart, lines, on_line = rig
    uart.feed(b"z" * 16 + b"\n")
    link.poll(on_line)
    assert lines == [b"z" * 16] and link.oversize_count == 0


def test_poll_reads_a_bounded_amount(machine):
    uart = machine.UART(0, 115200)
    link = HostLink(uart, line_bytes=16, max_bytes_per_poll=64)
    lines = []
    uart.feed(b"a\n" * 100)
    link.poll(lambda buf, n: lines.append(bytes(buf[:n])))
    assert len(lines) == 32
    assert uart.any() == 136


def test_write_counts_short_writes(machine):
    uart = machine.UART(0, 115200)
    link = HostLink(uart)
    assert link.write(b"hello\n") == 6
    uart.tx_room = 2
    assert link.write(b"hello\n") == 2
    assert link.tx_short_count == 1
    assert bytes(uart.tx) == b"hello\nhe"
