#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: login_policy
short_description: Owns the host's login and password policy - login.defs, PAM, su, shell limits
version_added: 0.1.0
description:
  - Sets password ageing, the password hash and the default umask in C(/etc/login.defs),
    changing only the keys it manages.
  - Writes a pwquality drop-in, C(/etc/security/faillock.conf) and a pam-auth-update
    profile that puts pam_faillock into the PAM stack (Debian 12 ships none), then runs
    C(pam-auth-update) so that Debian's own tooling keeps the stack consistent.
  - Restricts C(su) to the members of one group with pam_wheel.
  - Sets the shell umask and an idle session timeout for login shells.
  - Returns one finding per control; the faillock control passes only when the PAM stack
    really calls pam_faillock, not when the file merely exists.
options:
  mode:
    description: V(enforce) brings the host to the baseline; V(audit) only reports.
    type: str
    choices: [enforce, audit]
    default: enforce
  login_defs:
    description: Keys of C(/etc/login.defs) and their values.
    type: dict
    default: {}
  pwquality:
    description: Settings of the pwquality drop-in (C(minlen), C(minclass), ...).
    type: dict
    default: {}
  faillock:
    description:
      - Settings of C(faillock.conf) (C(deny), C(unlock_time), C(fail_interval),
        C(even_deny_root), C(root_unlock_time)). A key with value V(true) is written as a
        bare flag; V(false) leaves it out. Empty turns the faillock control off.
    type: dict
    default: {}
  umask:
    description: Default umask for login shells and new home files (octal text).
    type: str
    default: "027"
  session_timeout:
    description: Seconds of shell inactivity before logout; 0 turns it off.
    type: int
    default: 900
  su_group:
    description: Only members of this group may use su. Empty leaves su alone.
    type: str
    default: ""
  password_history:
    description: Number of previous passwords a user may not reuse (pam_pwhistory).
    type: int
    default: 5
  root_max_days:
    description: Maximum age of root's password in days; 0 leaves it alone.
    type: int
    default: 0
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - Password ageing in login.defs applies to accounts created afterwards; existing
    accounts keep their ageing until changed with chage.
  - pam-auth-update owns C(/etc/pam.d/common-*); local edits there that are not in a
    profile are replaced by pam-auth-update, as on any Debian host.
author:
  - groundwork platform team
"""

EXAMPLES = r"""
- name: Login and password policy
  groundwork.erp_baseline.login_policy:
    login_defs: {PASS_MAX_DAYS: 365, ENCRYPT_METHOD: YESCRYPT}
    pwquality: {minlen: 14, minclass: 4}
    faillock: {deny: 5, unlock_time: 900, even_deny_root: false}
    su_group: sugroup
"""

RETURN = r"""
findings:
  description: One finding per control.
  returned: always
  type: list
  elements: dict
changed_files:
  description: Files written.
  returned: always
  type: list
  elements: str
"""

import grp
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.groundwork.erp_baseline.plugins.module_utils import files, keyvalue
from ansible_collections.groundwork.erp_baseline.plugins.module_utils.findings import (
    FAIL, finding, settled)

HEADER = "# Managed by groundwork.erp_baseline (login_policy). Local changes are replaced.\n"
LOGIN_DEFS = "/etc/login.defs"
# The main file, edited in place: scanners and some tools read only this one.
PWQUALITY_FILE = "/etc/security/pwquality.conf"
FAILLOCK_FILE = "/etc/security/faillock.conf"
PAM_CONFIGS = "/usr/share/pam-configs"
SU_PAM = "/etc/pam.d/su"
UMASK_PROFILE = "/etc/profile.d/60-groundwork-umask.sh"
TIMEOUT_PROFILE = "/etc/profile.d/60-groundwork-timeout.sh"

# Two profiles, because pam-auth-update places one block per priority: the preauth check
# runs before pam_unix, the authfail record after it; the account line resets the count.
# The lines follow the layout of pam_faillock(8), which scanners such as OpenSCAP expect.
PAM_PROFILES = {
    "groundwork-faillock-preauth": (
        "Name: Refuse locked accounts before the password check (groundwork)\n"
        "Default: yes\nPriority: 1024\nAuth-Type: Primary\nAuth:\n"
        "\trequired\t\t\tpam_faillock.so preauth\n"
        "Account-Type: Primary\nAccount:\n\trequired\t\t\tpam_faillock.so\n"),
    "groundwork-pwhistory": (
        "Name: Refuse recently used passwords (groundwork)\n"
        "Default: yes\nPriority: 1000\nPassword-Type: Primary\nPassword:\n"
        "\trequisite\t\t\tpam_pwhistory.so remember=%(remember)d use_authtok\n"),
    "groundwork-faillock-authfail": (
        "Name: Count failed password checks (groundwork)\n"
        "Default: yes\nPriority: 0\nAuth-Type: Primary\nAuth:\n"
        "\t[default=die]\t\t\tpam_faillock.so authfail\n"
        "\tsufficient\t\t\tpam_faillock.so authsucc\n"),
}

PASSWORD_AGEING = ("PASS_MAX_DAYS", "PASS_MIN_DAYS", "PASS_WARN_AGE")
CONTROL_AGEING = "GW-HOST-010"
CONTROL_ROOT_AGEING = "GW-HOST-019"
CONTROL_HASH = "GW-HOST-011"
CONTROL_QUALITY = "GW-HOST-012"
CONTROL_FAILLOCK = "GW-HOST-013"
CONTROL_UMASK = "GW-HOST-014"
CONTROL_TIMEOUT = "GW-HOST-015"
CONTROL_SU = "GW-HOST-016"


class LoginPolicy(object):

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.dry_run = self.params["mode"] == "audit" or module.check_mode
        self.owned = files.OwnedFiles(self.dry_run)
        # Changes that are not whole files: the PAM stack, root's shadow entry, a group.
        self.changed_files = self.owned.changed

    def sync(self, path, content, mode=0o644):
        return self.owned.sync(path, content, mode)

    def settled(self, control_id, was_right, observed):
        return settled(control_id, was_right, self.dry_run, observed=observed)

    def login_defs(self):
        wanted = {key: str(value) for key, value in self.params["login_defs"].items()}
        wanted["UMASK"] = self.params["umask"]
        text = files.read_text(LOGIN_DEFS) or ""
        new_text, old = keyvalue.set_keys(text, wanted)
        self.sync(LOGIN_DEFS, new_text)
        result = []
        groups = ((CONTROL_AGEING, PASSWORD_AGEING), (CONTROL_HASH, ("ENCRYPT_METHOD",)))
        for control_id, keys in groups:
            keys = [key for key in keys if key in wanted]
            if keys:
                wrong = ["%s was %s" % (key, old[key]) for key in keys if key in old]
                result.append(self.settled(control_id, not wrong, "; ".join(wrong) or ", ".join(
                    "%s %s" % (key, wanted[key]) for key in keys)))
        return result, "UMASK" not in old

    def pwquality(self):
        settings = self.params["pwquality"]
        if not settings:
            return []
        text = files.read_text(PWQUALITY_FILE) or ""
        wanted = {key: _pam_value(value) for key, value in settings.items()}
        new_text, old = keyvalue.set_keys(text, wanted, separator="=")
        right = self.sync(PWQUALITY_FILE, new_text) and not old
        observed = ", ".join("%s=%s" % (key, settings[key]) for key in sorted(settings))
        return [self.settled(CONTROL_QUALITY, right, observed)]

    def faillock(self):
        settings = self.params["faillock"]
        if not settings:
            return []
        lines = []
        for key in sorted(settings):
            value = settings[key]
            if value is True:
                lines.append(key)
            elif value is not False:
                lines.append("%s = %s" % (key, value))
        right = self.sync(FAILLOCK_FILE, HEADER + "\n".join(lines) + "\n")
        for name, profile in PAM_PROFILES.items():
            content = profile % {"remember": self.params["password_history"]}
            right = self.sync("%s/%s" % (PAM_CONFIGS, name), content) and right
        wired = self.faillock_in_stack()
        if not wired and not self.dry_run:
            self.run_pam_auth_update()
            wired = self.faillock_in_stack()
            if not wired:
                return [finding(CONTROL_FAILLOCK, FAIL,
                                observed="pam_faillock missing from common-auth after "
                                         "pam-auth-update")]
        elif not wired:
            self.changed_files.append("/etc/pam.d/common-auth")
        return [self.settled(CONTROL_FAILLOCK, right and wired,
                             "deny=%s, unlock_time=%s, password history %d, in PAM stack: %s"
                             % (settings.get("deny"), settings.get("unlock_time"),
                                self.params["password_history"], "yes" if wired else "no"))]

    @staticmethod
    def faillock_in_stack():
        auth = files.read_text("/etc/pam.d/common-auth") or ""
        account = files.read_text("/etc/pam.d/common-account") or ""
        password = files.read_text("/etc/pam.d/common-password") or ""
        if not re.search(r"^password\s+\S+\s+pam_pwhistory\.so", password, re.M):
            return False
        return all(re.search(pattern, auth, re.M) for pattern in (
            r"^auth\s+required\s+pam_faillock\.so\s+preauth",
            r"^auth\s+\S+\s+pam_faillock\.so\s+authfail")) and bool(
            re.search(r"^account\s+\S+\s+pam_faillock\.so", account, re.M))

    def run_pam_auth_update(self):
        self.changed_files.append("/etc/pam.d/common-auth")
        rc, out, err = self.module.run_command(
            ["pam-auth-update", "--package", "--enable"] + sorted(PAM_PROFILES),
            environ_update={"DEBIAN_FRONTEND": "noninteractive"})
        if rc != 0:
            self.module.fail_json(msg="pam-auth-update failed: %s" % (err or out).strip(),
                                  changed_files=self.changed_files)

    def root_password_ageing(self):
        """Root's own password expires too; its key-less console login is the fallback."""
        days = self.params["root_max_days"]
        if days <= 0:
            return []
        current = _shadow_field("root", 4)
        right = current == str(days)
        if not right and not self.dry_run:
            self.module.run_command(["chage", "--maxdays", str(days), "root"], check_rc=True)
        if not right:
            self.changed_files.append("/etc/shadow (root maximum password age)")
        return [self.settled(CONTROL_ROOT_AGEING, right, "root maximum password age %s days"
                             % (current or "unset"))]

    def umask(self, login_defs_right):
        umask = self.params["umask"]
        right = self.sync(UMASK_PROFILE, HEADER + "umask %s\n" % umask)
        return [self.settled(CONTROL_UMASK, right and login_defs_right,
                             "umask %s (login.defs and login shells)" % umask)]

    def session_timeout(self):
        seconds = self.params["session_timeout"]
        if seconds <= 0:
            return []
        content = HEADER + "TMOUT=%d\nreadonly TMOUT\nexport TMOUT\n" % seconds
        right = self.sync(TIMEOUT_PROFILE, content)
        return [self.settled(CONTROL_TIMEOUT, right, "TMOUT=%d" % seconds)]

    def su_restriction(self):
        group = self.params["su_group"]
        if not group:
            return []
        text = files.read_text(SU_PAM)
        if text is None:
            return [finding(CONTROL_SU, FAIL, observed="%s is missing" % SU_PAM)]
        wheel_line = "auth       required   pam_wheel.so use_uid group=%s" % group
        group_exists = _group_exists(group)
        if not group_exists:
            self.changed_files.append("group %s" % group)
            if not self.dry_run:
                self.module.run_command(["groupadd", "--system", group], check_rc=True)
        if re.search(r"^auth\s+required\s+pam_wheel\.so.*group=%s\b" % re.escape(group),
                     text, re.M):
            return [self.settled(CONTROL_SU, group_exists, "su limited to %s" % group)]
        new_text = _insert_after(text, r"^auth\s+sufficient\s+pam_rootok\.so.*$", wheel_line)
        self.sync(SU_PAM, new_text)
        return [self.settled(CONTROL_SU, False, "su open to every user")]


def _shadow_field(user, index):
    for line in (files.read_text("/etc/shadow") or "").splitlines():
        fields = line.split(":")
        if fields[0] == user and len(fields) > index:
            return fields[index]
    return None


def _pam_value(value):
    """pwquality takes flags such as enforce_for_root as a bare key."""
    if value is True:
        return None
    return str(value)


def _group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def _insert_after(text, pattern, line):
    match = re.search(pattern, text, re.M)
    if not match:
        return line + "\n" + text
    return text[:match.end()] + "\n" + line + text[match.end():]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            mode=dict(type="str", default="enforce", choices=["enforce", "audit"]),
            login_defs=dict(type="dict", default={}),
            pwquality=dict(type="dict", default={}),
            faillock=dict(type="dict", default={}),
            umask=dict(type="str", default="027"),
            session_timeout=dict(type="int", default=900),
            su_group=dict(type="str", default=""),
            password_history=dict(type="int", default=5, no_log=False),
            root_max_days=dict(type="int", default=0),
        ),
        supports_check_mode=True,
    )
    if not re.match(r"^0?[0-7]{3}$", module.params["umask"]):
        module.fail_json(msg="umask: %r is not an octal umask such as 027"
                         % module.params["umask"])
    policy = LoginPolicy(module)
    login_findings, login_defs_umask_right = policy.login_defs()
    findings = (login_findings + policy.pwquality() + policy.faillock()
                + policy.umask(login_defs_umask_right) + policy.session_timeout()
                + policy.su_restriction() + policy.root_password_ageing())
    audit = module.params["mode"] == "audit"
    result = dict(changed=bool(policy.changed_files) and not audit, findings=findings,
                  changed_files=policy.changed_files)
    if module._diff and policy.changed_files:
        result["diff"] = policy.owned.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
