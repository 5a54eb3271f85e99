"""Fixtures for the vm scenario: the VM over SSH, the inventory and the report.

The VM is reached like a real server: SSH on the loopback port qemu forwards to the
guest's port 22, as the unprivileged admin with sudo. testinfra's ssh backend keeps one
master connection open, so each check costs one round trip; tests that must prove a
*new* connection use ssh() below, which never shares a connection.
"""

import json
import os
import pathlib
import subprocess

import pytest
import testinfra
import yaml

PROJECT = pathlib.Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", ".")).resolve()
EPHEMERAL = pathlib.Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp"))
INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE", "")
INSTANCE_CONFIG = os.environ.get("MOLECULE_INSTANCE_CONFIG", "")
ADMIN_KEY = PROJECT / ".lab" / "ssh" / "id_ed25519"
NAME = "gw-vm-debian12"
MASTER_SOCKET = EPHEMERAL / "vm-master.sock"
SSH_OPTIONS = ("-o", "BatchMode=yes", "-o", "ConnectTimeout=20", "-o",
               "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes")


def instance():
    """Molecule's record of the VM: address and forwarded port."""
    entries = yaml.safe_load(pathlib.Path(INSTANCE_CONFIG).read_text())
    return next(entry for entry in entries if entry["instance"] == NAME)


@pytest.fixture(scope="session")
def port():
    return int(instance()["port"])


@pytest.fixture(scope="session")
def vm(port):
    """Root on the VM through sudo, over one shared SSH connection.

    The connection outlives the test steps that make sshd refuse new sessions for a
    while, as an operator's open session would.
    """
    yield testinfra.get_host(
        "ssh://labadmin@127.0.0.1:%d" % port, ssh_identity_file=str(ADMIN_KEY), sudo=True,
        controlpath=str(MASTER_SOCKET), controlpersist=900,
        ssh_extra_args=" ".join(SSH_OPTIONS[2:]))
    close_shared_connection()


def close_shared_connection():
    """End the master connection of `vm`; its next command opens a new one."""
    subprocess.run(["ssh", "-o", "ControlPath=%s" % MASTER_SOCKET, "-O", "exit", "vm"],
                   capture_output=True, check=False)


@pytest.fixture(scope="session")
def report():
    """The JSON evidence of the last converge or idempotence run for the VM."""
    return json.loads((EPHEMERAL / "reports" / "latest" / (NAME + ".json")).read_text())


def ssh(port, user, command, key=ADMIN_KEY, extra=()):
    """A new SSH connection from this machine, sharing nothing with earlier ones."""
    args = ["ssh", "-i", str(key), "-p", str(port), *SSH_OPTIONS,
            "-o", "ControlMaster=no", "-o", "ControlPath=none", *extra,
            "%s@127.0.0.1" % user, command]
    return subprocess.run(args, capture_output=True, text=True, timeout=90, check=False)


def run_playbook(playbook, *args, inventory=INVENTORY, extra_vars=None):
    """Run a playbook against the VM, by default through the scenario's inventory."""
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(PROJECT / ".collections")
    env["ANSIBLE_CONFIG"] = str(PROJECT / "ansible.cfg")
    command = ["ansible-playbook", "-i", inventory, str(PROJECT / playbook), *args]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=str(PROJECT),
                          timeout=900, check=False)


def add_user(vm, name, sudo=False, groups=()):
    """A local user who logs in with the admin's key: only group membership differs."""
    key = ADMIN_KEY.with_suffix(".pub").read_text().strip()
    vm.run_expect([0, 9], "useradd --create-home --shell /bin/bash %s" % name)
    for group in groups:
        vm.check_output("usermod --append --groups %s %s" % (group, name))
    vm.check_output(
        "install -d -o {0} -g {0} -m 0700 /home/{0}/.ssh && "
        "printf '%s\\n' '{1}' > /home/{0}/.ssh/authorized_keys && "
        "chown {0}: /home/{0}/.ssh/authorized_keys".format(name, key))
    if sudo:
        vm.check_output("echo '%s ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/80-%s && "
                        "chmod 0440 /etc/sudoers.d/80-%s" % (name, name, name))


def sysctls_not_in_effect(vm):
    """The role's default kernel parameters whose running value differs, with that value."""
    defaults = PROJECT / "roles" / "host_baseline" / "defaults" / "main.yml"
    wanted = yaml.safe_load(defaults.read_text())["host_baseline_sysctls"]
    lines = vm.check_output("sysctl %s" % " ".join(sorted(wanted))).splitlines()
    running = dict(line.split(" = ", 1) for line in lines)
    return {name: running.get(name) for name in wanted if running.get(name) != str(wanted[name])}


def state_fingerprint(vm):
    """What a refused run must leave alone: file contents, modes, packages, units."""
    return vm.check_output(
        "{ find /etc /usr/share/pam-configs /home -xdev -type f "
        "-exec sha256sum {} + ; find /etc /home -xdev -printf '%m %u %g %p\\n' ; "
        "dpkg-query -W ; systemctl list-unit-files --no-legend ; } 2>/dev/null | sort")


def pytest_configure(config):
    config.addinivalue_line("markers", "reboot: restarts the VM; runs after every other test")


def pytest_collection_modifyitems(items):
    """A reboot test goes last, so that every other test sees the state converge left."""
    items.sort(key=lambda item: item.get_closest_marker("reboot") is not None)

