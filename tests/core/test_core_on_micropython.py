"""CPython only: runs the dual-runtime core tests on the MicroPython VM.

tests/mpvm/run.py imports the same tests/core/test_*.py files (all but the
CPython-only ones) on the unix port and calls every test_* function. The
binary is part of the project's venv, so a missing one fails here instead of
skipping quietly.
"""
import ast
import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MICROPYTHON = os.path.join(REPO, ".venv", "bin", "micropython")
RUNNER = os.path.join(REPO, "tests", "mpvm", "run.py")


def dual_runtime_tests():
    """Module.function names run.py should find: same selection rule as run.py."""
    found = []
    for name in sorted(os.listdir(HERE)):
        if not (name.startswith("test_") and name.endswith(".py")) or name.startswith("test_prop_"):
            continue
        with open(os.path.join(HERE, name)) as f:
            source = f.read()
        if "CPython only" in source.splitlines()[0]:
            continue
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                found.append(name[:-3] + "." + node.name)
    return found


def test_the_core_tests_pass_on_the_micropython_vm():
    assert os.path.exists(MICROPYTHON), "MicroPython unix port missing: " + MICROPYTHON
    expected = dual_runtime_tests()
    assert len(expected) >= 30
    result = subprocess.run([MICROPYTHON, "-X", "heapsize=2M", RUNNER], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    summary = re.findall(r"^(\d+) passed, (\d+) failed$", result.stdout, re.M)
    assert summary == [(str(len(expected)), "0")], out
    passed = sorted(re.findall(r"^PASS (\S+)$", result.stdout, re.M))
    assert passed == sorted(expected)
