"""Fixtures for the postgresql scenario: the container, the secrets, the converge log.

Connections to PostgreSQL come from the machine running the tests, at 10.89.42.1 on the
scenario's network, which the scenario lists as the tenants' client network.
"""

import json
import os
import pathlib
import subprocess

import pytest
import testinfra

PROJECT = pathlib.Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", ".")).resolve()
EPHEMERAL = pathlib.Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp"))
INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE", "")
SCENARIO = pathlib.Path(__file__).resolve().parents[1]
ADDRESS = "10.89.42.10"
GIVEN_SECRET = "Given-Secret-For-Tenant-B-7"


@pytest.fixture(scope="session")
def db():
    return testinfra.get_host("podman://gw-molecule-pg")


def secret(tenant, name):
    return (EPHEMERAL / "secrets" / tenant / name).read_text().strip()


@pytest.fixture(scope="session")
def report():
    path = EPHEMERAL / "reports" / "latest" / "gw-molecule-pg.json"
    return json.loads(path.read_text())


VERIFY_REPORTS = EPHEMERAL / "verify-reports"


def run_playbook(playbook, *args, extra_vars=None):
    """Run a playbook against the scenario; its report goes beside the converge's."""
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(PROJECT / ".collections")
    # Molecule forces colour; escape codes would split the recap's "changed=0".
    env.pop("ANSIBLE_FORCE_COLOR", None)
    env["ANSIBLE_NOCOLOR"] = "1"
    command = ["ansible-playbook", "-i", INVENTORY, str(playbook), *args]
    command += ["-e", json.dumps(dict(extra_vars or {},
                                      erp_baseline_report_dir=str(VERIFY_REPORTS)))]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=str(PROJECT),
                          timeout=900, check=False)


@pytest.fixture(scope="session")
def verbose_converge():
    """A converge run at -vvv: everything Ansible prints about the secrets."""
    return run_playbook(SCENARIO / "converge.yml", "-vvv")
