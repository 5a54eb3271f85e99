"""After a reboot the baseline is still in force: what the role persisted is what boots.

A wrong fstab line, a sysctl file that another one overrides at boot or a ruleset
nftables.service cannot load shows only here; on a production host it would show in the
next maintenance window.
"""

import time

import pytest
from conftest import close_shared_connection, ssh, sysctls_not_in_effect

BOOT_ID = "cat /proc/sys/kernel/random/boot_id"


def wait_for_new_boot(port, old_boot_id, seconds=240):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = ssh(port, "labadmin", BOOT_ID)
        if result.returncode == 0 and result.stdout.strip() != old_boot_id:
            return True
        time.sleep(5)
    return False


@pytest.mark.reboot
def test_the_baseline_is_in_force_after_a_reboot(vm, port):
    boot_id = vm.check_output(BOOT_ID)
    # Two seconds later, so that this command still returns over the open connection.
    vm.check_output("systemd-run --on-active=2 systemctl reboot")
    assert wait_for_new_boot(port, boot_id), "no SSH session into a new boot within 240 s"
    # The shared connection belongs to the old boot.
    close_shared_connection()
    state = vm.check_output("systemctl is-system-running --wait || true")
    assert state == "running", vm.check_output("systemctl --failed --no-legend")
    assert not sysctls_not_in_effect(vm)
    for mount_point in ("/tmp", "/var/tmp", "/dev/shm"):
        options = vm.check_output("findmnt -no OPTIONS %s" % mount_point).split(",")
        assert {"nodev", "nosuid", "noexec"} <= set(options), mount_point
    assert "enabled 2" in vm.check_output("auditctl -s").splitlines()
    assert "-w /etc/shadow -p wa -k identity" in vm.check_output("auditctl -l")
    assert "policy drop;" in vm.check_output("nft list table inet groundwork")
    assert "allowgroups sshusers" in vm.check_output("sshd -T").splitlines()
