"""What only a real kernel shows: sysctls in effect, mount options, auditd, nftables.

Every value read here is the running kernel's or the running daemon's, never a file the
role wrote. A fresh VM from the same image differs from the baseline in each of them
(kptr_restrict, rp_filter and ptrace_scope 0, accept_ra 1, /tmp and /var/tmp on the root
file system, /dev/shm without noexec), so a role that only wrote files would fail here.
"""

import re
import time

import pytest
from conftest import ssh, sysctls_not_in_effect


def test_every_baseline_sysctl_is_in_effect(vm):
    assert not sysctls_not_in_effect(vm)


def test_named_sysctls_read_back_from_the_kernel(vm):
    assert vm.check_output("sysctl -n kernel.kptr_restrict") == "2"
    assert vm.check_output("sysctl -n net.ipv4.conf.all.rp_filter") == "1"
    assert vm.check_output("sysctl -n kernel.yama.ptrace_scope") == "1"
    assert vm.check_output("sysctl -n net.ipv6.conf.all.accept_ra") == "0"


@pytest.mark.parametrize("mount_point", ["/tmp", "/var/tmp", "/dev/shm"])
def test_temporary_directories_are_mounted_nodev_nosuid_noexec(vm, mount_point):
    options = vm.check_output("findmnt -no OPTIONS %s" % mount_point).split(",")
    assert {"nodev", "nosuid", "noexec"} <= set(options)


@pytest.mark.parametrize("mount_point", ["/tmp", "/var/tmp", "/dev/shm"])
def test_programs_copied_to_temporary_directories_do_not_run(vm, mount_point):
    probe = "%s/gw-noexec-probe" % mount_point
    vm.check_output("install -m 0755 /usr/bin/true %s" % probe)
    try:
        result = vm.run(probe)
        assert result.rc == 126
        assert "Permission denied" in result.stderr
        assert vm.run("/usr/bin/true").rc == 0
    finally:
        vm.run("rm -f %s" % probe)


def test_auditd_runs_with_the_baseline_rules_loaded_and_locked(vm):
    assert vm.check_output("systemctl is-active auditd.service") == "active"
    status = vm.check_output("auditctl -s")
    assert re.search(r"^enabled 2$", status, re.M), status
    assert re.search(r"^pid [1-9][0-9]*$", status, re.M), status
    rules = vm.check_output("auditctl -l")
    for rule in ("-w /etc/shadow -p wa -k identity", "-w /etc/passwd -p wa -k identity",
                 "-w /etc/sudoers -p wa -k scope", "-w /etc/ssh/sshd_config -p wa -k sshd",
                 "-F path=/usr/bin/sudo -F perm=x -F auid>=1000 -F auid!=-1 "
                 "-F key=privileged"):
        assert rule in rules
    # The kernel lists syscalls in its own order.
    modules = re.search(r"^-a always,exit -F arch=b64 -S (\S+) -F key=modules$", rules, re.M)
    assert modules, rules
    assert set(modules.group(1).split(",")) == {"init_module", "finit_module",
                                                "delete_module"}


def test_audit_records_sudo_by_the_admin_and_writes_to_identity_files(vm, port):
    # ausearch takes local time; read the guest's own clock so both sides agree.
    since = vm.check_output("date +'%x %T'")
    time.sleep(1)
    assert ssh(port, "labadmin", "sudo -n true").returncode == 0
    vm.check_output("touch /etc/gshadow")
    # --input-logs: without a terminal, ausearch would read its standard input instead.
    search = "ausearch --input-logs --interpret --key %s --start " + since
    privileged = vm.run(search % "privileged")
    assert privileged.rc == 0, privileged.stderr
    assert re.search(r"auid=labadmin .*exe=/usr/bin/sudo", privileged.stdout)
    identity = vm.run(search % "identity")
    assert identity.rc == 0, identity.stderr
    assert "name=/etc/gshadow" in identity.stdout


def test_firewall_table_is_loaded_with_default_drop(vm):
    table = vm.check_output("nft list table inet groundwork")
    assert "type filter hook input priority filter; policy drop;" in table
    assert re.search(r"tcp dport 22 ip saddr 10\.0\.2\.0/24 accept", table)
    assert vm.check_output("systemctl is-enabled nftables.service") == "enabled"


@pytest.mark.parametrize("module", ["dccp", "sctp", "tipc", "udf", "hfsplus"])
def test_blocked_modules_do_not_load(vm, module):
    # The kernel ships the module, so without the block modprobe would load it.
    assert vm.run("modinfo --field filename %s" % module).rc == 0
    vm.run("modprobe %s" % module)
    assert module not in vm.check_output("cut -d' ' -f1 /proc/modules").split()
