"""Fixtures for the host scenario: the two containers, the inventory and the report.

Tests reach the containers through testinfra's podman backend (a `podman exec` per
command), which is much faster than going through Ansible for every check.
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
ADMIN_KEY = PROJECT / ".lab" / "ssh" / "id_ed25519"
HARDENED_ADDRESS = "10.89.41.10"
FRESH_ADDRESS = "10.89.41.11"


@pytest.fixture(scope="session")
def hardened():
    return testinfra.get_host("podman://gw-molecule-hardened")


@pytest.fixture(scope="session")
def fresh():
    return testinfra.get_host("podman://gw-molecule-fresh")


@pytest.fixture(scope="session")
def hardened_report():
    """The converge run's JSON evidence for the hardened host."""
    path = EPHEMERAL / "reports" / "latest" / "gw-molecule-hardened.json"
    return json.loads(path.read_text())


def findings_by_id(report):
    return {finding["id"]: finding for finding in report["findings"]}


def ssh(address, user, command, key=ADMIN_KEY, extra=()):
    """Open a fresh SSH connection from the machine running the tests."""
    args = ["ssh", "-i", str(key), "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", *extra, "%s@%s" % (user, address), command]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


def run_playbook(playbook, *args, inventory=INVENTORY, extra_vars=None):
    """Run a playbook of the collection, by default against the scenario's inventory."""
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(PROJECT / ".collections")
    env["ANSIBLE_CONFIG"] = str(PROJECT / "ansible.cfg")
    command = ["ansible-playbook", "-i", inventory, str(PROJECT / playbook), *args]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=str(PROJECT),
                          timeout=900, check=False)


def state_fingerprint(host):
    """Everything audit mode must leave alone: file contents, modes, packages, units."""
    return host.check_output(
        "{ find /etc /usr/share/pam-configs /var/lib/aide /home -xdev -type f "
        "-exec sha256sum {} + ; find /etc /home -xdev -printf '%m %u %g %p\\n' ; "
        "dpkg-query -W ; systemctl list-unit-files --no-legend ; } 2>/dev/null | sort")
