"""Wrap-safe millisecond arithmetic.

On the board the times come from time.ticks_ms(), which wraps at 2**30, so
they are compared with ticks_diff and advanced with ticks_add (a plain sum
could leave the small-int range and allocate). The simulator and the tests
hand in a plain integer clock on CPython, where these are - and +.
"""
TYPE_CHECKING = False
if TYPE_CHECKING:
    # For mypy: our times are plain ints wherever they come from, not the
    # stubs' opaque ticks type.
    def ticks_diff(new_ms: int, old_ms: int) -> int: ...

    def ticks_add(ms: int, delta_ms: int) -> int: ...
else:
    try:
        from time import ticks_add, ticks_diff
    except ImportError:
        def ticks_diff(new_ms, old_ms):
            return new_ms - old_ms

        def ticks_add(ms, delta_ms):
            return ms + delta_ms
