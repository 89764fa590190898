"""Watchdog feeds only while healthy."""
from drivers.watchdog import Watchdog


def test_feeds_only_when_healthy(machine):
    wdt = machine.WDT(timeout=1000)
    dog = Watchdog(wdt, 1000)
    assert dog.feed_if(True) is True
    assert dog.feed_if(False) is False
    assert dog.feed_if(False) is False
    assert wdt.feeds == 1
    assert dog.unhealthy_ticks == 2
    dog.feed_if(True)
    assert wdt.feeds == 2 and dog.unhealthy_ticks == 0
