# The dual-runtime core tests on the MicroPython VM (unix port):
#
#     .venv/bin/micropython -X heapsize=2M tests/mpvm/run.py
#
# Imports every tests/core/test_*.py except the CPython-only ones (names
# starting with test_prop_, or a first line containing "CPython only"),
# calls each test_* function, prints "PASS name" / "FAIL name: exc" and then
# "N passed, M failed"; exits 1 if anything failed.
import os
import sys


def _abspath(path):
    if not path.startswith("/"):
        path = os.getcwd() + "/" + path
    parts = []
    for part in path.split("/"):
        if part == "" or part == ".":
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


def _dirname(path):
    return path.rsplit("/", 1)[0]


HERE = _dirname(_abspath(sys.argv[0]))
TESTS = _dirname(HERE)
REPO = _dirname(TESTS)
CORE = TESTS + "/core"
for _p in (CORE, REPO, REPO + "/firmware"):
    if _p not in sys.path:
        sys.path.insert(0, _p)


def dual_runtime_modules():
    names = []
    for name in sorted(os.listdir(CORE)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        if name.startswith("test_prop_"):
            continue
        with open(CORE + "/" + name) as f:
            first = f.readline()
        if "CPython only" in first:
            continue
        names.append(name[:-3])
    return names


def main():
    passed = 0
    failed = 0
    for modname in dual_runtime_modules():
        try:
            mod = __import__(modname)
        except Exception as exc:
            print("FAIL %s (import): %r" % (modname, exc))
            sys.print_exception(exc)
            failed += 1
            continue
        for name in sorted(dir(mod)):
            if not name.startswith("test_"):
                continue
            fn = getattr(mod, name)
            if not callable(fn):
                continue
            label = modname + "." + name
            try:
                fn()
            except Exception as exc:
                failed += 1
                print("FAIL %s: %r" % (label, exc))
                sys.print_exception(exc)
            else:
                passed += 1
                print("PASS " + label)
    print("%d passed, %d failed" % (passed, failed))
    if failed:
        sys.exit(1)


main()
