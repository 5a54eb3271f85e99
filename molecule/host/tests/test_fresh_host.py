"""A fresh host: audit mode changes nothing; bad input and lockout risks stop the run early.

Every refused run is checked twice: the message names what is wrong, and the host's
state fingerprint (file contents, modes, packages, units) is the same afterwards.
"""

import json
import os
import pathlib
import tempfile

import pytest
from conftest import FRESH_ADDRESS, PROJECT, run_playbook, ssh, state_fingerprint


@pytest.fixture(scope="module")
def audit_run(fresh):
    before = state_fingerprint(fresh)
    with tempfile.TemporaryDirectory() as reports:
        result = run_playbook("playbooks/audit.yml", "--limit", "gw-molecule-fresh",
                              extra_vars={"erp_baseline_report_dir": reports})
        report = json.loads((pathlib.Path(reports) / "latest" /
                             "gw-molecule-fresh.json").read_text())
    return before, state_fingerprint(fresh), result, report


def test_audit_mode_changes_nothing(audit_run):
    before, after, result, _ = audit_run
    assert result.returncode == 0, result.stdout[-3000:]
    assert before == after
    assert "changed=0" in result.stdout


def test_audit_mode_reports_what_it_observed(audit_run):
    findings = {finding["id"]: finding for finding in audit_run[3]["findings"]}
    assert findings["GW-SSH-004"]["status"] == "fail"
    assert "passwordauthentication yes" in findings["GW-SSH-004"]["observed"].lower()
    assert findings["GW-SSH-002"]["status"] == "fail"
    assert "ecdsa" in findings["GW-SSH-002"]["observed"]
    assert findings["GW-HOST-011"]["status"] in ("pass", "fail")
    assert findings["GW-HOST-013"]["status"] == "fail"
    assert audit_run[3]["mode"] == "audit"
    assert all(finding["status"] != "fixed" for finding in findings.values())


BAD_INPUT = [
    ({"erp_baseline_mode": "harden"}, "erp_baseline_mode"),
    ({"erp_baseline_admin_networks": ["10.0.0.300/24"]}, "erp_baseline_admin_networks"),
    ({"ssh_baseline_allow_groups": []}, "ssh_baseline_allow_groups must name at least one"),
    ({"host_baseline_firewall_rules": [{"name": "odoo", "port": 70000,
                                        "sources": ["10.89.41.0/24"]}]},
     "host_baseline_firewall_rules"),
    ({"ssh_baseline_kex_algorithms": ["curve25519-sha256", "diffie-hellman-group1-sha1"]},
     "ssh_baseline_kex_algorithms names algorithms that are weak or that this OpenSSH"),
    ({"erp_baseline_admin_users": []}, "erp_baseline_admin_users is empty"),
]


@pytest.mark.parametrize("extra_vars, message", BAD_INPUT,
                         ids=[next(iter(case[0])) for case in BAD_INPUT])
def test_bad_input_fails_early_and_changes_nothing(fresh, extra_vars, message):
    before = state_fingerprint(fresh)
    result = run_playbook("site.yml", "--limit", "gw-molecule-fresh", extra_vars=extra_vars)
    assert result.returncode != 0
    assert message in result.stdout
    assert state_fingerprint(fresh) == before


def test_lockout_of_the_connecting_user_is_refused(fresh):
    """A sudo user that connects over SSH but is in none of the allowed groups."""
    fresh.run_expect([0, 9], "useradd --create-home --shell /bin/bash deploy")
    key = (PROJECT / ".lab" / "ssh" / "id_ed25519.pub").read_text().strip()
    fresh.check_output(
        "install -d -o deploy -m 0700 /home/deploy/.ssh && "
        "printf '%%s\\n' '%s' > /home/deploy/.ssh/authorized_keys && "
        "chown deploy /home/deploy/.ssh/authorized_keys && "
        "echo 'deploy ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/80-deploy && "
        "chmod 0440 /etc/sudoers.d/80-deploy" % key)
    assert ssh(FRESH_ADDRESS, "deploy", "sudo -n true").returncode == 0
    inventory = {"all": {"hosts": {"fresh-over-ssh": {
        "ansible_host": FRESH_ADDRESS, "ansible_user": "deploy",
        "ansible_connection": "ansible.builtin.ssh",
        "ansible_ssh_private_key_file": str(PROJECT / ".lab" / "ssh" / "id_ed25519"),
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
        "ansible_python_interpreter": "/usr/bin/python3"}}}}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(inventory, handle)
    try:
        before = state_fingerprint(fresh)
        result = run_playbook("molecule/host/ssh_only.yml", inventory=handle.name,
                              extra_vars={"erp_baseline_admin_users": [
                                  {"name": "labadmin", "ssh_keys": [key]}]})
        assert result.returncode != 0
        assert "user deploy is in none of the AllowGroups groups (sshusers)" in result.stdout
        assert "Nothing was changed" in result.stdout
        assert state_fingerprint(fresh) == before
        assert ssh(FRESH_ADDRESS, "deploy", "true").returncode == 0
    finally:
        os.unlink(handle.name)
