#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: baseline_files
short_description: Brings many configuration files and file modes to the baseline in one call
version_added: 0.1.0
description:
  - Writes whole configuration files (validated before they replace the old ones),
    sets modes and owners of existing files, checks that required files exist and that
    no file holds a forbidden line, and reports one finding per control.
  - Exists so that a role touching dozens of files pays one round trip, not one per file.
  - Files are grouped by control; a control passes when every file of it was already
    right, is fixed when this run corrected one, and fails when a check could not be met.
options:
  mode:
    description: V(enforce) brings the host to the baseline; V(audit) only reports.
    type: str
    choices: [enforce, audit]
    default: enforce
  files:
    description: Whole files to write.
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: Destination., type: path, required: true}
      content: {description: Full content., type: str, required: true}
      control: {description: Control ID., type: str, required: true}
      mode: {description: Octal mode as text., type: str, default: "0644"}
      owner: {description: Owner., type: str, default: root}
      group: {description: Group., type: str, default: root}
      validate:
        description: Command run on the candidate file (C(%s) is its path) before it
          replaces the old one.
        type: str
      units:
        description: systemd units to restart when this file changes (returned, not done).
        type: list
        elements: str
        default: []
      container_reason:
        description: When set and the host is a container, the control is reported
          not applicable with this reason (the file is still written).
        type: str
  permissions:
    description: Modes and owners for existing paths; a missing path is not an error.
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: Path., type: path, required: true}
      mode: {description: Octal mode as text., type: str, required: true}
      owner: {description: Owner., type: str, default: root}
      group: {description: Group., type: str, default: root}
      control: {description: Control ID., type: str, required: true}
  lines:
    description:
      - Lines to keep in files the distribution owns (such as C(/etc/fstab)); the first
        line matching O(lines[].regexp) is replaced, or the line is appended.
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: File., type: path, required: true}
      line: {description: The whole line., type: str, required: true}
      regexp: {description: Regular expression of the line to replace., type: str, required: true}
      control: {description: Control ID., type: str, required: true}
      container_reason:
        description: When set and the host is a container, the control is reported
          not applicable with this reason (the line is still written).
        type: str
  restrict_modes:
    description:
      - Remove permission bits beyond O(restrict_modes[].max_mode) from existing paths,
        keeping their owners (home directories and the files of users, for example).
    type: list
    elements: dict
    default: []
    suboptions:
      paths: {description: Globs of paths., type: list, elements: str, required: true}
      max_mode: {description: Octal mode as text; bits outside it are cleared., type: str,
                 required: true}
      control: {description: Control ID., type: str, required: true}
  required_paths:
    description: Paths that must exist; a missing one fails its control (nothing is created).
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: Path., type: path, required: true}
      control: {description: Control ID., type: str, required: true}
      what: {description: What the path is, for the finding., type: str, required: true}
  forbidden_lines:
    description: Report lines matching O(forbidden_lines[].pattern) in files matching a glob.
    type: list
    elements: dict
    default: []
    suboptions:
      paths: {description: Globs of files to read., type: list, elements: str, required: true}
      pattern: {description: Regular expression of a forbidden line., type: str, required: true}
      allowed: {description: Regular expression of lines that are allowed anyway., type: str}
      control: {description: Control ID., type: str, required: true}
  world_writable:
    description: Report world-writable files under these directories (report only).
    type: dict
    suboptions:
      paths: {description: Directories., type: list, elements: str, required: true}
      control: {description: Control ID., type: str, required: true}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - Replaced files are backed up beside themselves with a time stamp and C(.gw-backup).
author:
  - groundwork platform team
"""

EXAMPLES = r"""
- name: Files of the host baseline
  groundwork.erp_baseline.baseline_files:
    files:
      - path: /etc/sudoers.d/60-groundwork
        content: "Defaults use_pty\n"
        mode: "0440"
        validate: visudo -cf %s
        control: GW-HOST-030
    permissions:
      - {path: /etc/shadow, mode: "0640", group: shadow, control: GW-HOST-040}
"""

RETURN = r"""
findings:
  description: One finding per control.
  returned: always
  type: list
  elements: dict
changed_files:
  description: Paths written or whose mode or owner changed.
  returned: always
  type: list
  elements: str
units_to_restart:
  description: Units whose configuration changed, for the role's handler.
  returned: always
  type: list
  elements: str
"""

import glob
import os
import re
import stat
import subprocess
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.groundwork.erp_baseline.plugins.module_utils import files
from ansible_collections.groundwork.erp_baseline.plugins.module_utils.findings import (
    FAIL, NOT_APPLICABLE, finding, settled)
from ansible_collections.groundwork.erp_baseline.plugins.module_utils.host import (
    container_type)


class ControlLedger(object):
    """Collects, per control, whether it was right and what was observed."""

    def __init__(self):
        self.was_right = {}
        self.failures = {}
        self.notes = {}
        self.not_applicable = {}

    def record(self, control_id, right, note=None):
        self.was_right[control_id] = self.was_right.get(control_id, True) and right
        if note:
            self.notes.setdefault(control_id, []).append(note)

    def fail(self, control_id, observed):
        self.failures.setdefault(control_id, []).append(observed)
        self.was_right.setdefault(control_id, False)

    def findings(self, dry_run):
        result = []
        for control_id in sorted(self.was_right):
            if control_id in self.failures:
                result.append(finding(control_id, FAIL,
                                      observed="; ".join(self.failures[control_id])))
            elif control_id in self.not_applicable:
                result.append(finding(control_id, NOT_APPLICABLE,
                                      reason=self.not_applicable[control_id]))
            else:
                notes = self.notes.get(control_id)
                result.append(settled(control_id, self.was_right[control_id], dry_run,
                                      observed="; ".join(notes) if notes else None))
        return result


class BaselineFiles(object):

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.dry_run = self.params["mode"] == "audit" or module.check_mode
        self.container = container_type()
        self.ledger = ControlLedger()
        self.changed_files = []
        self.units = []
        self.diff = {"before": "", "after": ""}

    def write_files(self):
        pending = [entry for entry in self.params["files"] if not self._already_right(entry)]
        # Every candidate is checked before the first write: a refused file leaves all
        # the files of this call as they were.
        for entry in pending:
            self.validate(entry)
        for entry in pending:
            self._write(entry)

    def _already_right(self, entry):
        current = files.read_text(entry["path"])
        right = current == entry["content"] and \
            files.file_state(entry["path"]) == self._wanted_state(entry)
        if entry.get("container_reason") and self.container:
            self.ledger.not_applicable[entry["control"]] = "container (%s): %s" % (
                self.container, entry["container_reason"])
        note = None if right else "%s %s" % (
            entry["path"], "missing" if current is None else "differs from the baseline")
        self.ledger.record(entry["control"], right, note)
        return right

    def _wanted_state(self, entry):
        return _octal(self.module, entry["mode"], entry["path"]), entry["owner"], entry["group"]

    def _write(self, entry):
        current = files.read_text(entry["path"])
        self.changed_files.append(entry["path"])
        self.units += [unit for unit in entry["units"] if unit not in self.units]
        self.diff["before"] += "# %s\n%s" % (entry["path"], current or "")
        self.diff["after"] += "# %s\n%s" % (entry["path"], entry["content"])
        if not self.dry_run:
            files.write_text(entry["path"], entry["content"], *self._wanted_state(entry))

    def validate(self, entry):
        """Run the entry's check on a candidate copy; a refusal fails before any write."""
        if not entry.get("validate") or self.params["mode"] == "audit":
            return
        directory = os.path.dirname(entry["path"])
        with tempfile.NamedTemporaryFile("w", dir=directory if os.path.isdir(directory)
                                         else None, prefix=".gw-check-") as candidate:
            candidate.write(entry["content"])
            candidate.flush()
            command = entry["validate"] % candidate.name
            rc, out, err = self.module.run_command(command, use_unsafe_shell=False)
        if rc != 0:
            self.module.fail_json(msg="%s: the new content was refused by `%s`, nothing "
                                      "was replaced: %s" % (entry["path"], entry["validate"],
                                                            (err or out).strip()),
                                  changed_files=self.changed_files)

    def keep_lines(self):
        by_path = {}
        for entry in self.params["lines"]:
            by_path.setdefault(entry["path"], []).append(entry)
        for path, entries in sorted(by_path.items()):
            current = files.read_text(path) or ""
            text = current
            for entry in entries:
                text = _replace_line(text, entry["regexp"], entry["line"])
                if entry.get("container_reason") and self.container:
                    self.ledger.not_applicable[entry["control"]] = "container (%s): %s" % (
                        self.container, entry["container_reason"])
                present = entry["line"] in current.splitlines()
                self.ledger.record(entry["control"], present,
                                   None if present else "%s lacks: %s" % (path, entry["line"]))
            if text != current:
                self.changed_files.append(path)
                self.diff["before"] += "# %s\n%s" % (path, current)
                self.diff["after"] += "# %s\n%s" % (path, text)
                state = files.file_state(path) or (0o644, "root", "root")
                if not self.dry_run:
                    files.write_text(path, text, *state)

    def fix_permissions(self):
        for entry in self.params["permissions"]:
            mode = _octal(self.module, entry["mode"], entry["path"])
            for path in sorted(glob.glob(entry["path"])) or [entry["path"]]:
                state = files.file_state(path)
                if state is None:
                    continue
                wanted = (mode, entry["owner"], entry["group"])
                right = state == wanted
                note = None if right else "%s was %s" % (path, files.state_text(state))
                self.ledger.record(entry["control"], right, note)
                if not right:
                    self.changed_files.append(path)
                    if not self.dry_run:
                        files.ensure_state(path, *wanted)
            self.ledger.record(entry["control"], True)

    def restrict(self):
        for entry in self.params["restrict_modes"]:
            allowed = _octal(self.module, entry["max_mode"], entry["control"])
            loose = []
            for path in sorted({p for item in entry["paths"] for p in glob.glob(item)}):
                info = os.lstat(path)
                if stat.S_ISLNK(info.st_mode):
                    continue
                mode = stat.S_IMODE(info.st_mode)
                if mode & ~allowed:
                    loose.append("%s was %04o" % (path, mode))
                    if not self.dry_run:
                        os.chmod(path, mode & allowed)
            self.changed_files += [item.split(" was ")[0] for item in loose]
            self.ledger.record(entry["control"], not loose,
                               "; ".join(loose[:5]) + (" and %d more" % (len(loose) - 5)
                                                       if len(loose) > 5 else "")
                               if loose else None)

    def check_required(self):
        for entry in self.params["required_paths"]:
            if os.path.exists(entry["path"]):
                self.ledger.record(entry["control"], True, "%s present" % entry["what"])
            else:
                self.ledger.fail(entry["control"], "%s missing (%s)" % (entry["what"],
                                                                         entry["path"]))

    def check_forbidden(self):
        for rule in self.params["forbidden_lines"]:
            pattern = re.compile(rule["pattern"])
            allowed = re.compile(rule["allowed"]) if rule.get("allowed") else None
            hits = []
            for path in sorted({p for item in rule["paths"] for p in glob.glob(item)}):
                for number, line in enumerate((files.read_text(path) or "").splitlines(), 1):
                    text = line.strip()
                    if text.startswith("#") or not pattern.search(text):
                        continue
                    if allowed is None or not allowed.search(text):
                        hits.append("%s:%d" % (path, number))
            if hits:
                self.ledger.fail(rule["control"], "found in " + ", ".join(hits))
            else:
                self.ledger.record(rule["control"], True)

    def check_world_writable(self):
        spec = self.params["world_writable"]
        if not spec:
            return
        roots = [path for path in spec["paths"] if os.path.isdir(path)]
        found = _world_writable(roots)
        if found:
            shown = ", ".join(found[:10]) + (" and %d more" % (len(found) - 10)
                                             if len(found) > 10 else "")
            self.ledger.fail(spec["control"], "world-writable: " + shown)
        else:
            self.ledger.record(spec["control"], True, "none under " + ", ".join(roots))


def _replace_line(text, regexp, line):
    lines = text.splitlines()
    pattern = re.compile(regexp)
    for index, current in enumerate(lines):
        if pattern.search(current):
            lines[index] = line
            return "\n".join(lines) + "\n"
    return "\n".join(lines + [line]) + "\n"


def _world_writable(roots):
    if not roots:
        return []
    # One find for all roots, staying on their filesystems; sticky directories are fine.
    command = ["find"] + roots + ["-xdev", "(", "-type", "f", "-o", "-type", "d", ")",
                                  "-perm", "-0002", "!", "-perm", "-1000", "-print"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    return sorted(line for line in result.stdout.splitlines() if line)


def _octal(module, text, path):
    if not re.match(r"^0?[0-7]{3,4}$", str(text)):
        module.fail_json(msg="%s: mode %r is not an octal mode such as 0644" % (path, text))
    return int(str(text), 8)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            mode=dict(type="str", default="enforce", choices=["enforce", "audit"]),
            files=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="path", required=True),
                content=dict(type="str", required=True),
                control=dict(type="str", required=True),
                mode=dict(type="str", default="0644"),
                owner=dict(type="str", default="root"),
                group=dict(type="str", default="root"),
                validate=dict(type="str"),
                units=dict(type="list", elements="str", default=[]),
                container_reason=dict(type="str"),
            )),
            permissions=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="path", required=True),
                mode=dict(type="str", required=True),
                owner=dict(type="str", default="root"),
                group=dict(type="str", default="root"),
                control=dict(type="str", required=True),
            )),
            lines=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="path", required=True),
                line=dict(type="str", required=True),
                regexp=dict(type="str", required=True),
                control=dict(type="str", required=True),
                container_reason=dict(type="str"),
            )),
            restrict_modes=dict(type="list", elements="dict", default=[], options=dict(
                paths=dict(type="list", elements="str", required=True),
                max_mode=dict(type="str", required=True),
                control=dict(type="str", required=True),
            )),
            required_paths=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="path", required=True),
                control=dict(type="str", required=True),
                what=dict(type="str", required=True),
            )),
            forbidden_lines=dict(type="list", elements="dict", default=[], options=dict(
                paths=dict(type="list", elements="str", required=True),
                pattern=dict(type="str", required=True),
                allowed=dict(type="str"),
                control=dict(type="str", required=True),
            )),
            world_writable=dict(type="dict", options=dict(
                paths=dict(type="list", elements="str", required=True),
                control=dict(type="str", required=True),
            )),
        ),
        supports_check_mode=True,
    )
    run = BaselineFiles(module)
    run.write_files()
    run.keep_lines()
    run.fix_permissions()
    run.restrict()
    run.check_required()
    run.check_forbidden()
    run.check_world_writable()
    audit = module.params["mode"] == "audit"
    result = dict(changed=bool(run.changed_files) and not audit,
                  findings=run.ledger.findings(run.dry_run),
                  changed_files=run.changed_files, units_to_restart=run.units,
                  container=run.container)
    if module._diff and run.diff["after"]:
        result["diff"] = run.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
