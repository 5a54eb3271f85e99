#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kernel_settings
short_description: Owns the host's kernel hardening - sysctls, blocked kernel modules, core dumps
version_added: 0.1.0
description:
  - Writes the sysctls to one drop-in and applies the ones that differ in one step,
    then reads them back.
  - Blocks kernel modules (unused filesystems and network protocols) through one
    modprobe drop-in.
  - Turns core dumps off through limits.conf and systemd-coredump drop-ins.
  - In a container the kernel belongs to the machine that runs it, so the files are
    written but nothing is applied, and the runtime part of each control is reported
    as not applicable.
options:
  mode:
    description: V(enforce) brings the host to the baseline; V(audit) only reports.
    type: str
    choices: [enforce, audit]
    default: enforce
  sysctls:
    description: Kernel parameters and their values. Keys under C(net.) are network controls.
    type: dict
    default: {}
  sysctl_file:
    description:
      - The sysctl drop-in this module owns.
      - systemd-sysctl applies the files of all its folders in the order of their names, so
        the default sorts after the distribution's own, such as procps'
        C(99-protect-links.conf), which would otherwise set C(fs.protected_fifos) back at
        boot.
    type: path
    default: /etc/sysctl.d/99-zz-groundwork.conf
  blocked_modules:
    description: Kernel modules that must not load, each with the control it belongs to.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Module name.
        type: str
        required: true
      control:
        description: Control ID, for example GW-HOST-003.
        type: str
        required: true
  modprobe_file:
    description: The modprobe drop-in this module owns.
    type: path
    default: /etc/modprobe.d/60-groundwork.conf
  core_dumps:
    description: V(false) turns core dumps off; V(true) leaves them alone.
    type: bool
    default: false
  apply_runtime:
    description: Apply sysctls to the running kernel. Forced off in a container.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - A sysctl the running kernel does not have (for example IPv6 keys with IPv6 disabled)
    is persisted but reported as unknown.
  - A module that is already loaded stays loaded until reboot; the finding says so.
author:
  - groundwork platform team
"""

EXAMPLES = r"""
- name: Kernel hardening
  groundwork.erp_baseline.kernel_settings:
    sysctls:
      kernel.kptr_restrict: 2
      net.ipv4.tcp_syncookies: 1
    blocked_modules:
      - {name: cramfs, control: GW-HOST-003}
      - {name: dccp, control: GW-HOST-004}
"""

RETURN = r"""
findings:
  description: One finding per control.
  returned: always
  type: list
  elements: dict
container:
  description: The container technology detected, or null.
  returned: always
  type: str
changed_files:
  description: Files written.
  returned: always
  type: list
  elements: str
applied:
  description: Sysctls written to the running kernel.
  returned: always
  type: list
  elements: str
"""


from ansible.module_utils.basic import AnsibleModule

from ansible_collections.groundwork.erp_baseline.plugins.module_utils import files
from ansible_collections.groundwork.erp_baseline.plugins.module_utils.findings import (
    FAIL, NOT_APPLICABLE, UNKNOWN, finding, settled)
from ansible_collections.groundwork.erp_baseline.plugins.module_utils.host import (
    container_type)

HEADER = "# Managed by groundwork.erp_baseline (kernel_settings). Local changes are replaced.\n"
KERNEL_CONTROL = "GW-HOST-001"
NETWORK_CONTROL = "GW-HOST-002"
CORE_DUMP_CONTROL = "GW-HOST-005"
LIMITS_FILE = "/etc/security/limits.d/60-groundwork-coredump.conf"
COREDUMP_FILE = "/etc/systemd/coredump.conf.d/60-groundwork.conf"
COREDUMP_PROFILE = "/etc/profile.d/60-groundwork-coredump.sh"


def sysctl_path(name):
    return "/proc/sys/" + name.replace(".", "/")


def read_sysctl(name):
    try:
        with open(sysctl_path(name)) as handle:
            return " ".join(handle.read().split())
    except OSError:
        return None


def render_sysctls(sysctls):
    lines = ["%s = %s" % (name, sysctls[name]) for name in sorted(sysctls)]
    return HEADER + "\n".join(lines) + "\n"


def render_modprobe(modules):
    lines = []
    for name in sorted(module["name"] for module in modules):
        # `install ... /bin/true` turns explicit loads into no-ops (the form CIS, Lynis and
        # OpenSCAP all accept); blacklist stops loads through aliases.
        lines += ["install %s /bin/true" % name, "blacklist %s" % name]
    return HEADER + "\n".join(lines) + "\n"


def loaded_modules():
    try:
        with open("/proc/modules") as handle:
            return {line.split()[0] for line in handle if line.strip()}
    except OSError:
        return set()


class KernelSettings(object):

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.audit = self.params["mode"] == "audit"
        self.dry_run = self.audit or module.check_mode
        self.container = container_type()
        self.owned = files.OwnedFiles(self.dry_run)
        self.applied = []

    def runtime_applies(self):
        return self.params["apply_runtime"] and self.container is None

    def sysctl_findings(self):
        sysctls = {name: " ".join(str(value).split())
                   for name, value in self.params["sysctls"].items()}
        if not sysctls:
            return []
        file_right = self.owned.sync(self.params["sysctl_file"], render_sysctls(sysctls))
        groups = {KERNEL_CONTROL: {}, NETWORK_CONTROL: {}}
        for name, value in sysctls.items():
            groups[NETWORK_CONTROL if name.startswith("net.") else KERNEL_CONTROL][name] = value
        return [self.judge_sysctls(control_id, wanted, file_right)
                for control_id, wanted in sorted(groups.items()) if wanted]

    def judge_sysctls(self, control_id, wanted, file_right):
        persisted = "persisted in %s" % self.params["sysctl_file"]
        if not self.runtime_applies():
            reason = ("container (%s): the kernel belongs to the machine running it; %s"
                      % (self.container, persisted)) if self.container else (
                "runtime application turned off; " + persisted)
            if not file_right and self.audit:
                return finding(control_id, FAIL, observed="drop-in missing or different",
                               expected=persisted)
            return finding(control_id, NOT_APPLICABLE, reason=reason)
        current = {name: read_sysctl(name) for name in wanted}
        missing = sorted(name for name, value in current.items() if value is None)
        wrong = {name: current[name] for name in wanted
                 if current[name] is not None and current[name] != wanted[name]}
        if wrong and not self.dry_run:
            self.apply(wrong, wanted)
        after = {name: read_sysctl(name) for name in wrong} if not self.dry_run else wrong
        still_wrong = {name: value for name, value in after.items() if value != wanted[name]}
        if still_wrong:
            return finding(control_id, FAIL, observed=_pairs(still_wrong),
                           expected=_pairs({name: wanted[name] for name in still_wrong}))
        if missing:
            return finding(control_id, UNKNOWN,
                           reason="not in this kernel: %s" % ", ".join(missing))
        return settled(control_id, not wrong and file_right, self.dry_run,
                       observed=_pairs(wrong) if wrong else "%d settings" % len(wanted))

    def apply(self, wrong, wanted):
        for name in sorted(wrong):
            try:
                with open(sysctl_path(name), "w") as handle:
                    handle.write(wanted[name])
                self.applied.append(name)
            except OSError:
                pass  # judged as still wrong by the read-back

    def module_findings(self):
        modules = self.params["blocked_modules"]
        if not modules:
            return []
        file_right = self.owned.sync(self.params["modprobe_file"], render_modprobe(modules))
        loaded = loaded_modules()
        result = []
        for control_id in sorted({module["control"] for module in modules}):
            names = sorted(m["name"] for m in modules if m["control"] == control_id)
            still_loaded = [name for name in names if name in loaded]
            if self.container:
                result.append(finding(control_id, NOT_APPLICABLE, reason=(
                    "container (%s): modules load in the machine's kernel; blocked in %s"
                    % (self.container, self.params["modprobe_file"]))))
            elif still_loaded:
                result.append(finding(control_id, FAIL, observed="loaded now: %s (blocked "
                                      "from the next boot)" % ", ".join(still_loaded)))
            else:
                result.append(settled(control_id, file_right, self.dry_run,
                                      observed="blocked: %s" % ", ".join(names)))
        return result

    def core_dump_finding(self):
        if self.params["core_dumps"]:
            return []
        limits_right = self.owned.sync(LIMITS_FILE, HEADER + "* hard core 0\n")
        coredump_right = self.owned.sync(
            COREDUMP_FILE, HEADER + "[Coredump]\nStorage=none\nProcessSizeMax=0\n")
        # Login shells too, for programs started outside PAM's limits.
        profile_right = self.owned.sync(COREDUMP_PROFILE, HEADER + "ulimit -c 0\n")
        return [settled(CORE_DUMP_CONTROL, limits_right and coredump_right and profile_right,
                        self.dry_run,
                        observed="hard core limit 0, systemd-coredump storage none, "
                                 "ulimit -c 0 for login shells")]


def _pairs(values):
    return ", ".join("%s=%s" % (name, values[name]) for name in sorted(values))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            mode=dict(type="str", default="enforce", choices=["enforce", "audit"]),
            sysctls=dict(type="dict", default={}),
            sysctl_file=dict(type="path", default="/etc/sysctl.d/99-zz-groundwork.conf"),
            blocked_modules=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                control=dict(type="str", required=True),
            )),
            modprobe_file=dict(type="path", default="/etc/modprobe.d/60-groundwork.conf"),
            core_dumps=dict(type="bool", default=False),
            apply_runtime=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    for name in module.params["sysctls"]:
        if not all(part.replace("_", "").replace("-", "").isalnum() for part in name.split(".")):
            module.fail_json(msg="sysctls: %r is not a kernel parameter name" % name)
    run = KernelSettings(module)
    findings = run.sysctl_findings() + run.module_findings() + run.core_dump_finding()
    result = dict(
        # Audit mode reports what differs but changes nothing, so it is never "changed".
        changed=bool(run.owned.changed or run.applied) and not run.audit,
        findings=findings,
        container=run.container,
        changed_files=run.owned.changed,
        applied=run.applied,
    )
    if module._diff and run.owned.changed:
        result["diff"] = run.owned.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
