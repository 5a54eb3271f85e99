"""Real state of the converged host: what sshd, the kernel files, PAM and nftables say."""

import re
import subprocess

import pytest
from conftest import (HARDENED_ADDRESS, PROJECT, findings_by_id, ssh)


def effective_sshd(host):
    values = {}
    for line in host.check_output("sshd -T").splitlines():
        key, _, value = line.partition(" ")
        values[key] = values[key] + " " + value if key in values else value
    return values


def test_sshd_effective_settings_win_over_cloud_init(hardened):
    sshd = effective_sshd(hardened)
    assert hardened.file("/etc/ssh/sshd_config.d/50-cloud-init.conf").exists
    assert sshd["passwordauthentication"] == "no"
    assert sshd["kbdinteractiveauthentication"] == "no"
    assert sshd["permitrootlogin"] == "no"
    assert sshd["maxauthtries"] == "3"
    assert sshd["allowgroups"] == "sshusers"
    assert sshd["x11forwarding"] == "no"
    assert sshd["allowtcpforwarding"] == "no"
    assert sshd["banner"] == "/etc/issue.net"
    assert "cbc" not in sshd["ciphers"] and "sha1" not in sshd["macs"]
    assert sshd["kexalgorithms"].split(",")[0] == "sntrup761x25519-sha512"


def test_host_keys_and_moduli(hardened):
    keys = hardened.check_output("ls /etc/ssh/ | grep '^ssh_host_.*_key$'").split()
    assert sorted(keys) == ["ssh_host_ed25519_key", "ssh_host_rsa_key"]
    assert hardened.check_output("ssh-keygen -l -f /etc/ssh/ssh_host_rsa_key.pub").startswith(
        "4096 ")
    sizes = hardened.check_output("awk '!/^#/ {print $5}' /etc/ssh/moduli | sort -u").split()
    assert sizes and min(int(size) for size in sizes) >= 3071


def test_admin_logs_in_with_its_key_and_keeps_sudo():
    result = ssh(HARDENED_ADDRESS, "labadmin", "id -nG; sudo -n true && echo sudo-ok")
    assert result.returncode == 0, result.stderr
    assert "sshusers" in result.stdout.split()
    assert "sudo-ok" in result.stdout


def test_user_outside_allowgroups_is_refused(hardened):
    key = hardened.check_output("cat /home/labadmin/.ssh/authorized_keys")
    hardened.run_expect([0, 9], "useradd --create-home outsider")
    hardened.check_output(
        "install -d -o outsider -m 0700 /home/outsider/.ssh && "
        "printf '%%s\\n' '%s' > /home/outsider/.ssh/authorized_keys && "
        "chown outsider /home/outsider/.ssh/authorized_keys" % key.strip())
    result = ssh(HARDENED_ADDRESS, "outsider", "true")
    assert result.returncode == 255
    assert "Permission denied" in result.stderr


def test_password_login_is_refused():
    result = ssh(HARDENED_ADDRESS, "labadmin", "true",
                 extra=("-o", "PreferredAuthentications=password,keyboard-interactive",
                        "-o", "PubkeyAuthentication=no"))
    assert result.returncode == 255
    assert "Permission denied (publickey)" in result.stderr


def test_ssh_audit_hardened_debian12_policy_passes():
    result = subprocess.run(
        [str(PROJECT / ".venv" / "bin" / "ssh-audit"), "-P", "Hardened Debian 12 (version 3)",
         HARDENED_ADDRESS], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout
    assert "Passed" in result.stdout


def test_sysctls_persisted_not_applied_in_container(hardened, hardened_report):
    dropin = hardened.file("/etc/sysctl.d/99-zz-groundwork.conf")
    assert dropin.mode == 0o644
    assert "kernel.kptr_restrict = 2" in dropin.content_string
    assert "net.ipv4.conf.all.rp_filter = 1" in dropin.content_string
    findings = findings_by_id(hardened_report)
    for control_id in ("GW-HOST-001", "GW-HOST-002", "GW-HOST-003", "GW-HOST-004"):
        assert findings[control_id]["status"] == "not_applicable"
        assert "container" in findings[control_id]["reason"]


def test_blocked_modules_file(hardened):
    content = hardened.file("/etc/modprobe.d/60-groundwork.conf").content_string
    for name in ("cramfs", "udf", "dccp", "sctp", "rds", "tipc"):
        assert "install %s /bin/true" % name in content


def test_audit_rules_file_ends_immutable(hardened):
    rules = hardened.file("/etc/audit/rules.d/60-groundwork.rules")
    assert rules.mode == 0o640
    lines = [line for line in rules.content_string.splitlines() if line.strip()]
    assert lines[-1] == "-e 2"
    for needle in ("-w /etc/shadow -p wa -k identity", "-w /etc/sudoers -p wa -k scope",
                   "-k time-change", "init_module,finit_module,delete_module",
                   "-w /var/log/wtmp -p wa -k session", "path=/usr/bin/sudo -F perm=x"):
        assert needle in rules.content_string


@pytest.mark.parametrize("path, mode, group", [
    ("/etc/passwd", 0o644, "root"), ("/etc/shadow", 0o640, "shadow"),
    ("/etc/gshadow", 0o640, "shadow"), ("/etc/group", 0o644, "root"),
    ("/etc/ssh/sshd_config", 0o600, "root"), ("/etc/ssh/ssh_host_ed25519_key", 0o600, "root"),
    ("/etc/ssh/ssh_host_rsa_key", 0o600, "root"), ("/etc/ssh/ssh_host_rsa_key.pub", 0o644, "root"),
])
def test_file_modes(hardened, path, mode, group):
    assert hardened.file(path).mode == mode
    assert hardened.file(path).user == "root"
    assert hardened.file(path).group == group


def test_login_defs_and_pam(hardened):
    login_defs = hardened.file("/etc/login.defs").content_string
    assert re.search(r"^PASS_MAX_DAYS\s+365$", login_defs, re.M)
    assert re.search(r"^ENCRYPT_METHOD\s+YESCRYPT$", login_defs, re.M)
    assert re.search(r"^UMASK\s+027$", login_defs, re.M)
    common_auth = hardened.file("/etc/pam.d/common-auth").content_string
    assert re.search(r"^auth\s+required\s+pam_faillock.so preauth", common_auth, re.M)
    assert "pam_faillock.so authfail" in common_auth
    assert "pam_pwquality.so" in hardened.file("/etc/pam.d/common-password").content_string
    pwquality = hardened.file("/etc/security/pwquality.conf").content_string
    assert re.search(r"^minlen = 15$", pwquality, re.M)
    assert re.search(r"^enforce_for_root$", pwquality, re.M)
    assert "pam_tmpdir.so" in hardened.file("/etc/pam.d/common-session").content_string
    assert "pam_wheel.so use_uid group=sugroup" in hardened.file("/etc/pam.d/su").content_string


def test_root_is_not_locked_by_default(hardened):
    faillock_conf = hardened.file("/etc/security/faillock.conf").content_string
    assert "even_deny_root" not in faillock_conf
    assert re.search(r"^deny = 3$", faillock_conf, re.M)


def test_faillock_locks_after_three_wrong_passwords(hardened):
    """The PAM stack, not the file: pamtester drives `login` like a real login would."""
    hardened.check_output("DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pamtester")
    hardened.run_expect([0, 9], "useradd --create-home lockme")
    hardened.check_output("echo 'lockme:Corr3ct-Horse-Battery' | chpasswd")
    hardened.check_output("faillock --user lockme --reset")

    def authenticate(password):
        return hardened.run("echo '%s' | pamtester login lockme authenticate" % password)

    assert "successfully authenticated" in authenticate("Corr3ct-Horse-Battery").stdout
    for _ in range(3):
        wrong = authenticate("wrong-password")
        # pam_faillock's authfail step ends the stack, so pamtester may say either.
        assert wrong.rc == 1
        assert "Authentication failure" in wrong.stderr or "Permission denied" in wrong.stderr
    locked = authenticate("Corr3ct-Horse-Battery")
    assert locked.rc == 1, "the right password still works after three failures"
    tally = hardened.check_output("faillock --user lockme")
    assert len([line for line in tally.splitlines()
                if re.match(r"^\d{4}-\d\d-\d\d ", line.strip())]) == 3
    hardened.check_output("faillock --user lockme --reset")
    assert authenticate("Corr3ct-Horse-Battery").rc == 0


def test_firewall_loaded_with_default_drop(hardened):
    table = hardened.check_output("nft list table inet groundwork")
    assert "hook input priority filter; policy drop;" in table
    assert re.search(r"tcp dport 22 ip saddr 10\.89\.41\.0/24 accept", table)
    assert "ct state established,related accept" in table
    assert hardened.service("nftables.service").is_enabled


def test_services_and_aide(hardened):
    assert hardened.service("fail2ban.service").is_running
    assert hardened.file("/var/lib/aide/aide.db").exists
    assert hardened.service("dailyaidecheck.timer").is_enabled
    jail = hardened.check_output("fail2ban-client status sshd")
    assert "Currently banned" in jail


def test_homes_are_closed_to_others(hardened):
    assert hardened.file("/home/labadmin").mode & 0o007 == 0
    assert hardened.file("/home/labadmin/.bashrc").mode & 0o037 == 0


def test_banners_and_operations_tools(hardened):
    assert "authorized users only" in hardened.file("/etc/issue").content_string
    assert "authorized users only" in hardened.file("/etc/issue.net").content_string
    assert "CRON_CHECK=weekly" in hardened.file("/etc/default/debsums").content_string
    assert "$nrconf{restart} = 'l';" in hardened.file(
        "/etc/needrestart/conf.d/60-groundwork.conf").content_string
    assert hardened.service("sysstat.service").is_enabled
    assert "Checksums = sha512" in hardened.file("/etc/aide/aide.conf").content_string


def test_sudo_defaults(hardened):
    content = hardened.file("/etc/sudoers.d/60-groundwork").content_string
    assert "Defaults use_pty" in content
    assert 'Defaults logfile="/var/log/sudo.log"' in content
    assert "Defaults ignore_dot" in content
    assert hardened.file("/etc/sudoers.d").mode == 0o750
    assert hardened.file("/etc/sudoers.d/60-groundwork").mode == 0o440


def test_report_has_every_control_passed_or_fixed(hardened_report):
    statuses = {finding["id"]: finding["status"] for finding in hardened_report["findings"]}
    assert statuses, "no findings in the report"
    failing = {cid: status for cid, status in statuses.items()
               if status not in ("pass", "fixed", "not_applicable", "skipped")}
    assert not failing
    unexplained = [finding["id"] for finding in hardened_report["findings"]
                   if finding["status"] in ("not_applicable", "skipped")
                   and not finding.get("reason")]
    assert not unexplained
    assert statuses["GW-HOST-022"] == "skipped"
    assert statuses["GW-SSH-004"] in ("pass", "fixed")
    assert statuses["GW-SSH-014"] == "pass"


def test_a_container_skips_the_mount_units_and_private_tmp_units_start(hardened,
                                                                       hardened_report):
    """systemd in a container cannot mount the fstab lines; a failed var-tmp.mount would
    take down every unit with PrivateTmp (Redis, among others). The lines are kept, for
    the day the host runs on a real kernel, and the mount units are skipped."""
    mounted = [line.split()[1] for line in hardened.file("/etc/fstab").content_string
               .splitlines() if line.strip() and not line.startswith("#")]
    assert {"/tmp", "/var/tmp", "/dev/shm"} <= set(mounted)
    hardened.run("systemctl start var-tmp.mount tmp.mount")
    shown = hardened.check_output("systemctl show -p ConditionResult,ActiveState "
                                  "var-tmp.mount tmp.mount")
    assert shown.count("ConditionResult=no") == 2 and "failed" not in shown, shown
    assert hardened.run("systemd-run --wait --quiet -p PrivateTmp=yes /bin/true").rc == 0
    statuses = {finding["id"]: finding for finding in hardened_report["findings"]}
    assert statuses["GW-HOST-045"]["status"] == "not_applicable"
    assert "container" in statuses["GW-HOST-045"]["reason"]
