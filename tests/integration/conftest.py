# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the collection's modules as Ansible runs them on a target, with either Python.

Modules execute on the managed host with that host's libraries. Every module test runs
twice: with this venv's Python (the newest psycopg and redis-py) and with Debian 12's
/usr/bin/python3, which sees only Debian's python3-psycopg and python3-redis (installed
by `make deps`). A shim folder gives that interpreter ansible's module_utils and this
collection and nothing else from the venv.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tempfile

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
DEBIAN_PYTHON = "/usr/bin/python3"
INTERPRETERS = {"venv": sys.executable, "debian": DEBIAN_PYTHON}


def _shim():
    import ansible

    top = pathlib.Path(tempfile.mkdtemp(prefix="erp-baseline-shim-"))
    (top / "ansible").symlink_to(pathlib.Path(ansible.__file__).parent)
    namespace = top / "ansible_collections" / "groundwork"
    namespace.mkdir(parents=True)
    (namespace / "erp_baseline").symlink_to(REPO_ROOT)
    return top


SHIM = _shim()
# Controller-side code (action plugins, plugin_utils) is imported from the same place.
sys.path.insert(0, str(SHIM))


@pytest.fixture(params=sorted(INTERPRETERS), scope="session")
def python(request):
    """The interpreter a module runs with: the venv's or Debian's."""
    return INTERPRETERS[request.param]


def run_module(name, args, python, check=False, diff=False, env=None):
    """Execute plugins/modules/<name>.py as a target would; return its JSON result.

    The result carries ``failed`` and ``msg`` as Ansible shows them, and ``stdout`` is
    kept under ``_raw`` so a test can look for a secret in everything the module printed.
    """
    payload = dict(args)
    payload["_ansible_check_mode"] = check
    payload["_ansible_diff"] = diff
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": payload}, handle)
    run_env = dict(os.environ, PYTHONPATH=str(SHIM), **(env or {}))
    try:
        process = subprocess.run(
            [python, str(REPO_ROOT / "plugins" / "modules" / (name + ".py")), handle.name],
            capture_output=True, text=True, env=run_env, timeout=300, check=False)
    finally:
        os.unlink(handle.name)
    try:
        result = json.loads(process.stdout)
    except ValueError:
        raise AssertionError("%s printed no JSON:\n%s\n%s"
                             % (name, process.stdout, process.stderr)) from None
    result["_raw"] = process.stdout + process.stderr
    return result


@pytest.fixture
def module(python):
    """Run a module with the interpreter of this test's parameter."""

    def call(name, args, **options):
        return run_module(name, args, python, **options)

    return call
