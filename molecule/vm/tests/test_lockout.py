"""The lockout refusal over real SSH: a run that would cut off its own user stops first.

`deploy` is a service account with sudo that Ansible connects as. It can log in today
because it is in sshusers; the inventory now narrows AllowGroups to a group deploy is
not in. The SSH role must refuse before it changes anything, and deploy must still get
in afterwards.
"""

import json
import os
import tempfile

from conftest import ADMIN_KEY, add_user, run_playbook, ssh, state_fingerprint


def test_a_run_that_would_lock_out_the_connecting_user_is_refused(vm, port):
    add_user(vm, "deploy", sudo=True, groups=["sshusers"])
    assert ssh(port, "deploy", "sudo -n true").returncode == 0
    inventory = {"all": {"hosts": {"vm-as-deploy": {
        "ansible_host": "127.0.0.1", "ansible_port": port, "ansible_user": "deploy",
        "ansible_connection": "ansible.builtin.ssh",
        "ansible_ssh_private_key_file": str(ADMIN_KEY),
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
        "ansible_python_interpreter": "/usr/bin/python3"}}}}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(inventory, handle)
    key = ADMIN_KEY.with_suffix(".pub").read_text().strip()
    try:
        before = state_fingerprint(vm)
        result = run_playbook("molecule/vm/ssh_only.yml", inventory=handle.name, extra_vars={
            "erp_baseline_admin_users": [{"name": "labadmin", "ssh_keys": [key]}],
            "ssh_baseline_allow_groups": ["erpadmins"]})
        assert result.returncode != 0
        assert "user deploy is in none of the AllowGroups groups (erpadmins)" in result.stdout
        assert "Nothing was changed" in result.stdout
        assert state_fingerprint(vm) == before
        assert vm.run("getent group erpadmins").rc == 2
        assert ssh(port, "deploy", "true").returncode == 0
    finally:
        os.unlink(handle.name)
        # deploy's NOPASSWD rule is itself outside the baseline (GW-HOST-031).
        vm.run("rm -f /etc/sudoers.d/80-deploy; userdel --remove deploy")
