"""sshd after the baseline, proven with new SSH connections from this machine.

The converge ran over SSH, so the SSH role armed its rollback timer and confirmed the
change over a fresh connection. These tests check that the confirmation stuck, that
the admin still gets in while others do not, and that an unconfirmed change is undone
by the timer.
"""

import re
import time

from conftest import add_user, run_playbook, ssh

ROLLBACK_SECONDS = 60


def effective(vm, keyword):
    return vm.check_output("sshd -T | awk '$1 == \"%s\" {print $2}'" % keyword)


def test_admin_logs_in_over_a_new_connection_and_keeps_sudo(port):
    result = ssh(port, "labadmin", "id -nG; sudo -n true && echo sudo-ok")
    assert result.returncode == 0, result.stderr
    assert "sshusers" in result.stdout.split()
    assert "sudo-ok" in result.stdout


def test_user_outside_allowgroups_is_refused(vm, port):
    """Same key as the admin; only the group differs, and sshd says so in its log."""
    add_user(vm, "outsider")
    since = vm.check_output("date '+%F %T'")
    result = ssh(port, "outsider", "true")
    assert result.returncode == 255
    assert "Permission denied (publickey)" in result.stderr
    log = vm.check_output("journalctl --unit ssh.service --since '%s' --no-pager" % since)
    assert "User outsider from 10.0.2.2 not allowed because none of user's groups are " \
           "listed in AllowGroups" in log


def test_password_login_is_not_offered(port):
    result = ssh(port, "labadmin", "true",
                 extra=("-o", "PreferredAuthentications=password,keyboard-interactive",
                        "-o", "PubkeyAuthentication=no"))
    assert result.returncode == 255
    assert "Permission denied (publickey)" in result.stderr


def test_converge_armed_the_rollback_timer_and_confirmed_it(vm):
    log = vm.check_output("journalctl --no-pager --output cat --unit gw-sshd-rollback.timer")
    assert re.search(r"^Started .*gw-sshd-rollback\.timer", log, re.M), log
    assert re.search(r"^Stopped .*gw-sshd-rollback\.timer", log, re.M), log
    assert vm.run("systemctl is-active gw-sshd-rollback.timer").stdout.strip() != "active"
    # A rollback of the first change would have removed the role's drop-in: it is there
    # and its settings are the effective ones.
    assert vm.file("/etc/ssh/sshd_config.d/00-groundwork.conf").exists
    assert effective(vm, "allowgroups") == "sshusers"
    assert effective(vm, "passwordauthentication") == "no"


def test_an_unconfirmed_change_is_rolled_back_by_the_timer(vm, port):
    """MaxSessions 0 passes sshd -t and the lockout check, yet no new session opens.

    The role's confirmation over a new connection fails, so the timer it armed puts the
    previous files back and reloads sshd. The master connection of `vm` was opened
    before the change and keeps working, as a live operator's session would.
    """
    dropin = "/etc/ssh/sshd_config.d/00-groundwork.conf"
    before = vm.check_output("sha256sum %s" % dropin)
    max_sessions = effective(vm, "maxsessions")
    assert max_sessions != "0"
    started = time.monotonic()
    result = run_playbook("molecule/vm/ssh_only.yml", extra_vars={
        "ssh_baseline_extra_settings": {"MaxSessions": 0},
        "ssh_baseline_rollback_seconds": ROLLBACK_SECONDS})
    assert result.returncode != 0, result.stdout[-3000:]
    assert "Stop the rollback timer over a new connection" in result.stdout
    assert "UNREACHABLE" in result.stdout
    # Still within the timer's delay: the change is live and nobody new gets a session.
    assert vm.check_output("systemctl is-active gw-sshd-rollback.timer") == "active"
    assert effective(vm, "maxsessions") == "0"
    assert ssh(port, "labadmin", "true").returncode == 255
    deadline = started + ROLLBACK_SECONDS + 120
    while time.monotonic() < deadline:
        if ssh(port, "labadmin", "true").returncode == 0:
            break
        time.sleep(5)
    assert ssh(port, "labadmin", "echo back").stdout.strip() == "back"
    assert effective(vm, "maxsessions") == max_sessions
    assert vm.check_output("sha256sum %s" % dropin) == before
