"""Import paths for every test folder: the firmware's own root (its modules
import as `from control.trajectory import ...`) and the repository root
(`simulator`). Nothing else: the folders keep their own fixtures."""
import os
import sys

_TESTS = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.dirname(_TESTS)
for _path in (_REPO, os.path.join(_REPO, "firmware")):
    if _path not in sys.path:
        sys.path.insert(0, _path)
