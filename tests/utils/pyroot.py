"""Make the collection importable as ``ansible_collections.vcf.sddc_manager`` from a plain checkout.

``build/pyroot/ansible_collections/vcf/sddc_manager`` becomes a symlink to the repository root, so that
``build/pyroot`` can go on ``sys.path`` (pytest) or ``ANSIBLE_COLLECTIONS_PATH`` (ansible-playbook).
Idempotent and safe when several processes (pytest-xdist workers) race to create the link.

Run as a script it prints the pyroot directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

NAMESPACE = "vcf"
NAME = "sddc_manager"
REPO = Path(__file__).resolve().parents[2]
PYROOT = REPO / "build" / "pyroot"
# relative, so that the tree can be moved: .../build/pyroot/ansible_collections/vcf -> repository root
_TARGET = os.path.join(*[os.pardir] * 4)


def ensure_pyroot() -> Path:
    """Create (or repair) the symlink and return the directory to put on sys.path."""
    link = PYROOT / "ansible_collections" / NAMESPACE / NAME
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() and os.readlink(link) == _TARGET:
        return PYROOT
    if link.exists() and not link.is_symlink():
        raise RuntimeError(f"{link} exists and is not a symlink; remove it (make clean)")
    tmp = link.with_name(f".{NAME}.{os.getpid()}")
    if tmp.is_symlink():
        tmp.unlink()
    os.symlink(_TARGET, tmp, target_is_directory=True)
    os.replace(tmp, link)  # atomic, also when a stale link is there
    return PYROOT


if __name__ == "__main__":
    sys.stdout.write(f"{ensure_pyroot()}\n")
