"""Fixtures for the postgresql scenario: the container, the secrets, the converge log.

Connections to PostgreSQL come from the machine running the tests, at 10.89.42.1 on the
scenario's network, which the scenario lists as the tenants' client network.
"""

import json
import os
import pathlib
import sys

import pytest
import testinfra

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "shared"))
import playbooks  # noqa: E402  (molecule/shared)

EPHEMERAL = pathlib.Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp"))
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
    return playbooks.run_playbook(playbook, *args, report_dir=VERIFY_REPORTS,
                                  extra_vars=extra_vars)


@pytest.fixture(scope="session")
def verbose_converge():
    """A converge run at -vvv: everything Ansible prints about the secrets."""
    return run_playbook(SCENARIO / "converge.yml", "-vvv")
