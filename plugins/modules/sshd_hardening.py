#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sshd_hardening
short_description: Owns the OpenSSH server's hardening drop-in, host keys, moduli and admin access
version_added: 0.1.0
description:
  - Writes one drop-in whose name sorts early, so its settings win over later drop-ins
    such as C(50-cloud-init.conf) (sshd keeps the first value it reads). A file that sorts
    before it still wins; such conflicts are named in a warning and in the failing
    findings.
  - Keeps only ed25519 and RSA host keys, regenerating an RSA key shorter than
    O(rsa_bits); removes Diffie-Hellman group-exchange moduli below O(moduli_min_bits).
  - Makes sure every admin user exists, is in O(access_group) and has its keys authorized,
    and refuses to change anything when an admin or the connecting user would be locked out.
  - Validates with C(sshd -t) before reloading, checks the effective configuration with
    C(sshd -T) afterwards, and restores the previous files when either check fails.
  - Returns one finding per control, judged on the effective configuration.
options:
  mode:
    description: V(enforce) brings sshd to the baseline; V(audit) only reports.
    type: str
    choices: [enforce, audit]
    default: enforce
  settings:
    description:
      - sshd keywords and their values. Lists become comma-separated for algorithm
        keywords and space-separated otherwise; booleans become yes or no.
    type: dict
    required: true
  dropin:
    description: The drop-in this module owns. Its name must sort first in the directory.
    type: path
    default: /etc/ssh/sshd_config.d/00-groundwork.conf
  main_config:
    description: The main sshd configuration, which must include the drop-in directory.
    type: path
    default: /etc/ssh/sshd_config
  admin_users:
    description: Admin users who must keep SSH access.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Login name.
        type: str
        required: true
      ssh_keys:
        description: Public keys to authorize (added if missing; other keys are kept).
        type: list
        elements: str
        default: []
  access_group:
    description: Group the admin users are added to; normally one of the AllowGroups.
    type: str
  connecting_user:
    description:
      - The user Ansible connects as over SSH. It is not managed, so it must already be
        admitted under the new settings and hold an authorized key. Empty for local or
        container connections.
    type: str
    default: ""
  allow_lockout:
    description: Apply even when an admin or the connecting user would lose access.
    type: bool
    default: false
  rsa_bits:
    description: Minimum size of the RSA host key; a shorter key is regenerated.
    type: int
    default: 4096
  moduli_min_bits:
    description: Group-exchange moduli below this size are removed from the moduli file.
    type: int
    default: 3072
  banner_text:
    description: Text of the pre-login banner written to the C(Banner) path, if one is set.
    type: str
  service:
    description: The systemd unit of the SSH server.
    type: str
    default: ssh
  rollback_seconds:
    description:
      - When above zero and something changed, arm a transient systemd timer that restores
        the previous configuration after this many seconds unless the unit named in the
        C(rollback_unit) return value is stopped. The role stops it after a fresh SSH
        connection with a file transfer has worked.
    type: int
    default: 0
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - Changing the RSA host key size changes that key's fingerprint. Clients that negotiate
    ed25519 (the default preference of current OpenSSH) do not notice; clients pinned to
    the RSA key must update their known_hosts.
  - Settings in the main sshd_config placed before its C(Include) line win over the
    drop-in. The module reports such settings as failed findings instead of editing the
    main file.
  - C(Match) blocks are not evaluated by the lockout check.
author:
  - groundwork platform team
"""

EXAMPLES = r"""
- name: Harden sshd and keep the admins in
  groundwork.erp_baseline.sshd_hardening:
    settings:
      PasswordAuthentication: false
      PermitRootLogin: "no"
      AllowGroups: [sshusers]
      KexAlgorithms: [sntrup761x25519-sha512@openssh.com, curve25519-sha256]
    admin_users:
      - name: deploy
        ssh_keys: ["ssh-ed25519 AAAAC3Nza... deploy@laptop"]
    access_group: sshusers
    connecting_user: "{{ ansible_user | default('') }}"
"""

RETURN = r"""
findings:
  description: One finding per control (see the collection's report schema).
  returned: always
  type: list
  elements: dict
changed_files:
  description: Files written, replaced or removed.
  returned: always
  type: list
  elements: str
conflicts:
  description: Settings in other sshd files that disagree with the drop-in.
  returned: always
  type: list
  elements: str
rollback_unit:
  description: The transient unit that restores the previous files unless stopped.
  returned: when a rollback timer was armed
  type: str
"""

import glob
import grp
import os
import pwd

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.groundwork.erp_baseline.plugins.module_utils import files
from ansible_collections.groundwork.erp_baseline.plugins.module_utils import sshd as sshd_rules
from ansible_collections.groundwork.erp_baseline.plugins.module_utils.findings import (
    FAIL, PASS, UNKNOWN, finding, settled)

SSHD = "/usr/sbin/sshd"
HEADER = "# Managed by groundwork.erp_baseline (sshd_hardening). Local changes are replaced."
HOST_KEY_DIR = "/etc/ssh"


class SshdHardening(object):
    """One run: plan, check for lockout, apply with validation, judge."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.audit = module.params["mode"] == "audit"
        self.dry_run = self.audit or module.check_mode
        self.settings = dict(module.params["settings"])
        self.changed_files = []
        self.backups = {}
        self.diff = {"before": "", "after": ""}

    # -- facts about the host -------------------------------------------------------------

    def run(self, args, check=True):
        rc, out, err = self.module.run_command(args)
        if check and rc != 0:
            self.fail("%s failed: %s" % (" ".join(args), (err or out).strip()))
        return rc, out, err

    def effective(self):
        rc, out, err = self.run([SSHD, "-T"], check=False)
        if rc != 0:
            return None, (err or out).strip()
        return sshd_rules.parse_effective(out), None

    def known_algorithms(self):
        known = {}
        for query in set(sshd_rules.ALGORITHM_QUERIES.values()):
            rc, out, _ = self.run(["ssh", "-Q", query], check=False)
            if rc == 0:
                known[query] = set(out.split())
        return known

    # -- checks before any change ---------------------------------------------------------

    def refuse_unknown_algorithms(self):
        unknown = sshd_rules.unknown_algorithms(self.settings, self.known_algorithms())
        if unknown:
            detail = "; ".join("%s: %s" % (key, ", ".join(names))
                               for key, names in sorted(unknown.items()))
            self.module.fail_json(msg="this OpenSSH does not know these algorithms, nothing "
                                      "was changed: " + detail, findings=[])

    def lockout_problems(self):
        """Return reasons why an admin or the connecting user would lose access."""
        problems = []
        access_group = self.params["access_group"]
        for admin in self.params["admin_users"]:
            groups = set(self.user_groups(admin["name"]))
            if access_group:
                groups.add(access_group)  # the module adds it below
            problems += sshd_rules.admission_problems(admin["name"], groups, self.settings)
            if not admin["ssh_keys"] and not self.authorized_keys(admin["name"]):
                problems.append("admin user %s has no SSH key declared or authorized"
                                % admin["name"])
        user = self.params["connecting_user"]
        if user and user not in [admin["name"] for admin in self.params["admin_users"]]:
            if self.user_exists(user):
                problems += sshd_rules.admission_problems(user, self.user_groups(user),
                                                          self.settings)
                if not self.authorized_keys(user):
                    problems.append("connecting user %s has no authorized SSH key" % user)
        return problems

    @staticmethod
    def user_exists(name):
        try:
            pwd.getpwnam(name)
            return True
        except KeyError:
            return False

    @staticmethod
    def user_groups(name):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            return []
        groups = {group.gr_name for group in grp.getgrall() if name in group.gr_mem}
        try:
            groups.add(grp.getgrgid(entry.pw_gid).gr_name)
        except KeyError:
            pass
        return sorted(groups)

    @staticmethod
    def authorized_keys_path(name):
        return os.path.join(pwd.getpwnam(name).pw_dir, ".ssh", "authorized_keys")

    def authorized_keys(self, name):
        if not self.user_exists(name):
            return []
        text = files.read_text(self.authorized_keys_path(name)) or ""
        return [line.strip() for line in text.splitlines()
                if line.strip() and not line.startswith("#")]

    # -- planned changes ------------------------------------------------------------------

    def host_key_plan(self):
        """Return (paths to keep, paths to remove, key types to (re)generate)."""
        keep = [os.path.join(HOST_KEY_DIR, "ssh_host_ed25519_key"),
                os.path.join(HOST_KEY_DIR, "ssh_host_rsa_key")]
        remove = [path for path in glob.glob(os.path.join(HOST_KEY_DIR, "ssh_host_*_key"))
                  if path not in keep]
        generate = []
        if not os.path.exists(keep[0]):
            generate.append("ed25519")
        if self.rsa_key_bits(keep[1]) < self.params["rsa_bits"]:
            generate.append("rsa")
        return keep, sorted(remove), generate

    def rsa_key_bits(self, path):
        if not os.path.exists(path):
            return 0
        rc, out, _ = self.run(["ssh-keygen", "-l", "-f", path + ".pub"], check=False)
        if rc != 0 or not out.split():
            return 0
        return int(out.split()[0])

    def moduli_plan(self):
        path = "/etc/ssh/moduli"
        text = files.read_text(path)
        if text is None:
            return path, None, 0
        kept, removed = sshd_rules.weak_moduli(text, self.params["moduli_min_bits"])
        return path, kept, removed

    def conflicts(self):
        """Settings in other drop-ins or before the main Include that disagree with ours."""
        found = []
        ours = {key.lower(): sshd_rules.expected_value(key, value)
                for key, value in self.settings.items()}
        directory = os.path.dirname(self.params["dropin"])
        for path in sorted(glob.glob(os.path.join(directory, "*.conf"))):
            if path != self.params["dropin"]:
                found += self._conflicts_in(path, ours, stop_at_include=False)
        found += self._conflicts_in(self.params["main_config"], ours, stop_at_include=True)
        return found

    @staticmethod
    def _conflicts_in(path, ours, stop_at_include):
        found = []
        for number, line in enumerate((files.read_text(path) or "").splitlines(), 1):
            keyword, _, value = line.strip().partition(" ")
            keyword = keyword.lower()
            if keyword == "include" and stop_at_include:
                break
            if keyword == "match":
                break
            if keyword in ours and value.strip().lower() != ours[keyword].lower():
                found.append("%s:%d sets %s %s" % (path, number, keyword, value.strip()))
        return found

    # -- applying -------------------------------------------------------------------------

    def write(self, path, content, mode=0o600, owner="root", group="root"):
        current = files.read_text(path)
        if current == content and files.file_state(path) == (mode, owner, group):
            return False
        self.diff["before"] += "# %s\n%s" % (path, current or "")
        self.diff["after"] += "# %s\n%s" % (path, content)
        self.changed_files.append(path)
        if not self.dry_run:
            self.backups.setdefault(path, files.write_text(path, content, mode, owner, group))
        return True

    def remove(self, path):
        self.changed_files.append(path)
        if not self.dry_run:
            self.backups.setdefault(path, files.make_backup(path))
            os.unlink(path)

    def apply_host_keys(self, remove, generate):
        for path in remove:
            self.remove(path)
            if os.path.exists(path + ".pub"):
                self.remove(path + ".pub")
        for key_type in generate:
            path = os.path.join(HOST_KEY_DIR, "ssh_host_%s_key" % key_type)
            self.changed_files.append(path)
            if self.dry_run:
                continue
            for existing in (path, path + ".pub"):
                if os.path.exists(existing):
                    self.backups.setdefault(existing, files.make_backup(existing))
                    os.unlink(existing)
            args = ["ssh-keygen", "-q", "-N", "", "-t", key_type, "-f", path]
            if key_type == "rsa":
                args[-2:-2] = ["-b", str(self.params["rsa_bits"])]
            self.run(args)
            # ssh-keygen follows the caller's umask; host keys have fixed modes.
            files.ensure_state(path, 0o600)
            files.ensure_state(path + ".pub", 0o644)

    def ensure_admins(self):
        changed = []
        group = self.params["access_group"]
        for admin in self.params["admin_users"]:
            name = admin["name"]
            if not self.user_exists(name):
                changed.append("user %s created" % name)
                if not self.dry_run:
                    self.run(["useradd", "--create-home", "--shell", "/bin/bash", name])
            if group and group not in self.user_groups(name):
                changed.append("user %s added to %s" % (name, group))
                if not self.dry_run:
                    self.run(["groupadd", "--force", "--system", group])
                    self.run(["usermod", "--append", "--groups", group, name])
            missing = [key for key in admin["ssh_keys"]
                       if key.strip() not in self.authorized_keys(name)]
            if missing:
                changed.append("%d key(s) authorized for %s" % (len(missing), name))
                if not self.dry_run:
                    self.authorize(name, missing)
        return changed

    def authorize(self, name, keys):
        entry = pwd.getpwnam(name)
        ssh_dir = os.path.join(entry.pw_dir, ".ssh")
        if not os.path.isdir(ssh_dir):
            os.makedirs(ssh_dir, mode=0o700)
            os.chown(ssh_dir, entry.pw_uid, entry.pw_gid)
        path = os.path.join(ssh_dir, "authorized_keys")
        text = files.read_text(path) or ""
        if text and not text.endswith("\n"):
            text += "\n"
        text += "".join(key.strip() + "\n" for key in keys)
        group = grp.getgrgid(entry.pw_gid).gr_name
        files.write_text(path, text, 0o600, name, group, backup=False)

    def validate_or_restore(self):
        rc, out, err = self.run([SSHD, "-t", "-f", self.params["main_config"]], check=False)
        if rc != 0:
            self.restore()
            self.fail("sshd -t rejected the new configuration, the previous files are "
                      "back: " + (err or out).strip())

    def reload(self):
        rc, _, _ = self.run(["systemctl", "is-active", "--quiet", self.params["service"]],
                            check=False)
        if rc != 0:
            return  # not running: the role starts it; nothing to reload
        self.run(["systemctl", "reload", self.params["service"]])
        rc, _, _ = self.run(["systemctl", "is-active", "--quiet", self.params["service"]],
                            check=False)
        if rc != 0:
            self.restore()
            self.run(["systemctl", "restart", self.params["service"]], check=False)
            self.fail("sshd did not survive the reload; the previous files are back")

    def arm_rollback(self):
        """Restore the previous files later unless the role confirms a new connection."""
        unit = "gw-sshd-rollback"
        steps = []
        for path, backup in self.backups.items():
            steps.append("cp -p '%s' '%s'" % (backup, path) if backup else "rm -f '%s'" % path)
        steps.append("systemctl reload %s" % self.params["service"])
        self.run(["systemctl", "stop", unit + ".timer"], check=False)
        self.run(["systemd-run", "--unit", unit, "--on-active",
                  "%ds" % self.params["rollback_seconds"], "/bin/sh", "-c", "; ".join(steps)])
        return unit

    def restore(self):
        for path, backup in self.backups.items():
            files.restore(path, backup)

    def fail(self, msg):
        self.module.fail_json(msg=msg, changed_files=self.changed_files)


def judge(before, after, settings, audit, host_key_finding, moduli_finding):
    """Turn the effective configuration before and after the run into findings."""
    findings = [host_key_finding, moduli_finding]
    wrong_before = sshd_rules.differences(settings, before or {})
    wrong_after = sshd_rules.differences(settings, after or {})
    by_control = {}
    for keyword in settings:
        by_control.setdefault(sshd_rules.control_for(keyword), []).append(keyword)
    for control_id in sorted(by_control):
        keywords = by_control[control_id]
        still_wrong = [k for k in keywords if k in wrong_after]
        if still_wrong:
            observed = "; ".join("%s %s" % (k, wrong_after[k][1]) for k in still_wrong)
            expected = "; ".join("%s %s" % (k, wrong_after[k][0]) for k in still_wrong)
            findings.append(finding(control_id, FAIL, observed=observed, expected=expected))
            continue
        was_right = not any(k in wrong_before for k in keywords)
        summary = "; ".join("%s %s" % (k, sshd_rules.expected_value(k, settings[k]))
                            for k in keywords)
        findings.append(settled(control_id, was_right, audit, observed=summary))
    return findings


def main():
    module = AnsibleModule(
        argument_spec=dict(
            mode=dict(type="str", default="enforce", choices=["enforce", "audit"]),
            settings=dict(type="dict", required=True),
            dropin=dict(type="path", default="/etc/ssh/sshd_config.d/00-groundwork.conf"),
            main_config=dict(type="path", default="/etc/ssh/sshd_config"),
            admin_users=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                ssh_keys=dict(type="list", elements="str", default=[], no_log=False),
            )),
            access_group=dict(type="str"),
            connecting_user=dict(type="str", default=""),
            allow_lockout=dict(type="bool", default=False),
            rsa_bits=dict(type="int", default=4096),
            moduli_min_bits=dict(type="int", default=3072),
            banner_text=dict(type="str"),
            service=dict(type="str", default="ssh"),
            rollback_seconds=dict(type="int", default=0),
        ),
        supports_check_mode=True,
    )
    run = SshdHardening(module)
    if not os.path.exists(SSHD):
        status = UNKNOWN
        reason = "openssh-server is not installed"
        if module.params["mode"] == "enforce" and not module.check_mode:
            module.fail_json(msg=reason + "; install it before this module runs")
        module.exit_json(changed=not run.audit, findings=[
            finding("GW-SSH-001", status, reason=reason)], changed_files=[], conflicts=[])

    run.refuse_unknown_algorithms()
    problems = run.lockout_problems()
    if problems and not run.audit and not module.params["allow_lockout"]:
        module.fail_json(msg="refusing to change sshd: " + "; ".join(problems)
                         + ". Nothing was changed. Fix the inventory, or set the lockout "
                         "override if this is intended.", findings=[
                             finding("GW-SSH-014", FAIL, observed="; ".join(problems))])

    before, before_error = run.effective()
    keep_keys, remove_keys, generate_keys = run.host_key_plan()
    moduli_path, moduli_text, weak_count = run.moduli_plan()
    settings = run.settings
    if module.params["banner_text"] and settings.get("Banner"):
        banner_path = settings["Banner"]
        banner_changed = run.write(banner_path, module.params["banner_text"].rstrip() + "\n",
                                   mode=0o644)
    else:
        banner_changed = False

    admin_changes = run.ensure_admins()
    run.apply_host_keys(remove_keys, generate_keys)
    if weak_count:
        run.write(moduli_path, moduli_text, mode=0o644)
    content = sshd_rules.render_dropin(settings, keep_keys, HEADER)
    config_changed = run.write(module.params["dropin"], content)
    config_changed = config_changed or bool(remove_keys or generate_keys or weak_count)
    config_changed = config_changed or banner_changed

    rollback_unit = None
    if config_changed and not run.dry_run:
        run.validate_or_restore()
        if module.params["rollback_seconds"] > 0:
            rollback_unit = run.arm_rollback()
        run.reload()

    after, after_error = (before, before_error) if run.dry_run else run.effective()
    if after is None and not run.dry_run:
        run.restore()
        run.fail("sshd -T failed after the change, the previous files are back: %s"
                 % after_error)

    host_key_finding = settled(
        "GW-SSH-002", not (remove_keys or generate_keys), run.dry_run,
        observed="remove: %s; generate: %s" % (", ".join(remove_keys) or "none",
                                               ", ".join(generate_keys) or "none"))
    moduli_finding = settled("GW-SSH-003", weak_count == 0, run.dry_run,
                             observed="%d moduli below %d bits" % (
                                 weak_count, module.params["moduli_min_bits"]))
    if after is None:
        controls = sorted({sshd_rules.control_for(keyword) for keyword in settings})
        findings = [host_key_finding, moduli_finding] + [
            finding(control_id, UNKNOWN, reason="sshd -T failed: %s" % before_error)
            for control_id in controls]
    else:
        # In check mode and audit mode nothing was applied: judge what is there now.
        findings = judge(before or {}, after, settings, run.dry_run, host_key_finding,
                         moduli_finding)
    conflicts = run.conflicts()
    if conflicts:
        # A file read before the drop-in (or a line before the main Include) wins.
        module.warn("other sshd settings disagree with the baseline: " + "; ".join(conflicts))
        for item in findings:
            if item["status"] == FAIL and item["id"] != "GW-SSH-014":
                item["reason"] = "set elsewhere: " + "; ".join(conflicts)
    access = "; ".join(problems) if problems else "admins keep access: %s" % ", ".join(
        admin["name"] for admin in module.params["admin_users"])
    findings.append(finding("GW-SSH-014", FAIL if problems else PASS, observed=access))

    result = dict(
        changed=bool(run.changed_files or admin_changes) and not run.audit,
        findings=findings,
        changed_files=run.changed_files,
        admin_changes=admin_changes,
        conflicts=conflicts,
    )
    if rollback_unit:
        result["rollback_unit"] = rollback_unit
    if module._diff and (run.diff["before"] or run.diff["after"]):
        result["diff"] = run.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
