"""After a reboot the baseline is still in force: what the role persisted is what boots.

A wrong fstab line, a sysctl file the kernel rejects or a ruleset nftables.service cannot
load shows only here, and on a production host it shows in the next maintenance window.
"""

import time

import pytest
from conftest import ssh

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
    checks = ssh(port, "labadmin", " ; ".join([
        "cat /proc/sys/kernel/kptr_restrict /proc/sys/net/ipv4/conf/all/rp_filter",
        "findmnt -no OPTIONS /tmp", "findmnt -no OPTIONS /var/tmp",
        "findmnt -no OPTIONS /dev/shm",
        "sudo -n auditctl -s | grep ^enabled", "sudo -n auditctl -l | grep -c identity",
        "sudo -n nft list table inet groundwork | grep -c 'policy drop'",
        "sudo -n sshd -T | grep ^allowgroups"]))
    assert checks.returncode == 0, checks.stderr
    lines = checks.stdout.splitlines()
    assert lines[0:2] == ["2", "1"]
    for options in lines[2:5]:
        assert {"nodev", "nosuid", "noexec"} <= set(options.split(","))
    assert lines[5] == "enabled 2"
    assert int(lines[6]) >= 5
    assert lines[7] == "1"
    assert lines[8] == "allowgroups sshusers"
