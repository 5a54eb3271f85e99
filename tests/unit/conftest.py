# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make the checkout importable as ``ansible_collections.groundwork.erp_baseline``.

A throw-away directory holds ``ansible_collections/groundwork/erp_baseline``, a symlink
to the repository root, and goes first on sys.path before any test module is imported.
It is removed when the session ends; the symlink is unlinked, never followed.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _link_collection():
    top = tempfile.mkdtemp(prefix="erp-baseline-collections-")
    namespace = os.path.join(top, "ansible_collections", "groundwork")
    os.makedirs(namespace)
    os.symlink(REPO_ROOT, os.path.join(namespace, "erp_baseline"))
    return top


_COLLECTIONS = _link_collection()
sys.path.insert(0, _COLLECTIONS)
atexit.register(shutil.rmtree, _COLLECTIONS, True)
