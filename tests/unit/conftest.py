"""Unit test setup: import path for the collection and for the shared helpers, and in-process module runs.

``import ansible_collections.vcf.sddc_manager.plugins...`` works because ``build/pyroot`` (holding a
symlink to the repository root, see tests/utils/pyroot.py) is put first on ``sys.path``. ``tests/unit`` is on it
too, so every test, whatever its folder, can ``from helpers import task, methods, make_jwt`` (tests/unit/helpers.py).

The fixture ``run_module`` runs a module's ``main()`` in this process and returns what Ansible would
receive (see tests/utils/module_runner.py):

    def test_info(run_module):
        result, failed = run_module(credentials_task_info, {"hostname": "h", "token": "t"}, check_mode=True)
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_UNIT = str(Path(__file__).resolve().parent)
_UTILS = str(Path(__file__).resolve().parents[1] / "utils")
for _path in (_UNIT, _UTILS):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from pyroot import ensure_pyroot  # noqa: E402  (tests/utils/pyroot.py)

_PYROOT = str(ensure_pyroot())
if _PYROOT not in sys.path:
    sys.path.insert(0, _PYROOT)

from module_runner import run_module  # noqa: E402


@pytest.fixture(name="run_module", scope="session")
def run_module_fixture():
    """``run_module(module, args, check_mode=False, diff=False) -> (result, failed)``.

    Session-scoped (it holds no state), so hypothesis ``@given`` tests can use it too.
    """
    return run_module
