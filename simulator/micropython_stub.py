"""Stand-in for MicroPython's `micropython` module on CPython.

machine.install() puts it in sys.modules when `import micropython` fails,
so firmware that uses const(), heap_lock() or schedule() imports as it is.
heap_lock() cannot forbid allocation on CPython; it only counts.
"""
_heap_lock_depth = 0


def const(x):
    return x


def native(f):
    return f


def viper(f):
    return f


def heap_lock():
    global _heap_lock_depth
    _heap_lock_depth += 1
    return _heap_lock_depth - 1


def heap_unlock():
    global _heap_lock_depth
    if _heap_lock_depth > 0:
        _heap_lock_depth -= 1
    return _heap_lock_depth


def heap_locked():
    return _heap_lock_depth


def alloc_emergency_exception_buf(size):
    pass


def schedule(func, arg):
    # The board runs it soon after the interrupt; here, at once.
    func(arg)


def opt_level(level=None):
    return 0 if level is None else None


def mem_info(verbose=False):
    pass


def qstr_info(verbose=False):
    pass


def stack_use():
    return 0


def kbd_intr(ch):
    pass
