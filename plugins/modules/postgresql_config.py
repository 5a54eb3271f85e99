#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: postgresql_config
short_description: The server settings of the PostgreSQL baseline, written, checked and reloaded
version_added: 0.1.0
description:
  - Owns one configuration drop-in (Debian's postgresql.conf includes C(conf.d) last, so
    its values win) and the mode of the data directory.
  - A changed drop-in is checked by the server binary itself before the cluster reloads
    (C(postgres -C) reads every file and value as a start would) and restored, with the
    module failing on the server's message, when PostgreSQL reports an error in it.
  - Otherwise the server reloads. Settings that only a restart applies are returned in
    RV(restart_required) for the role's handler; nothing is restarted here.
  - Each control is reported from the values in force when the module started.
options:
  settings:
    description: Setting names and values; values are written as quoted strings.
    type: dict
    required: true
  controls:
    description: Which settings make up each control, by control ID.
    type: dict
    default: {}
  path:
    description: The drop-in this module owns.
    type: path
    required: true
  data_directory_mode:
    description: Mode the data directory must have.
    type: str
    default: "0700"
  server_binary:
    description:
      - The C(postgres) binary that checks the files; Debian's path for the running
        server's major version when not given.
    type: path
  mode:
    description: V(enforce) changes the server; V(audit) only reports.
    type: str
    choices: [enforce, audit]
    default: enforce
extends_documentation_fragment:
  - groundwork.erp_baseline.postgres
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - Data checksums are reported, not changed; turning them on needs the cluster offline.
  - The module runs as the cluster's owner (C(become_user=postgres)), so that it can write
    the drop-in and read the data directory.
requirements:
  - psycopg 3 on the database host
author:
  - groundwork platform team
"""

EXAMPLES = r"""
- name: Server settings
  groundwork.erp_baseline.postgresql_config:
    path: /etc/postgresql/15/main/conf.d/60-groundwork.conf
    settings:
      listen_addresses: "10.0.3.5"
      password_encryption: scram-sha-256
    controls:
      GW-PG-001: [listen_addresses]
      GW-PG-003: [password_encryption]
  become: true
  become_user: postgres
"""

RETURN = r"""
findings:
  description: One finding per control, plus data checksums and the data directory.
  returned: always
  type: list
  elements: dict
restart_required:
  description: Settings whose new value applies only after a restart.
  returned: always
  type: list
  elements: str
"""

import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.groundwork.erp_baseline.plugins.module_utils import files
from ansible_collections.groundwork.erp_baseline.plugins.module_utils import postgres as pg
from ansible_collections.groundwork.erp_baseline.plugins.module_utils.findings import (
    FAIL, PASS, finding, settled)

HEADER = "# Managed by groundwork.erp_baseline (postgresql_config). Local changes are replaced.\n"
CHECKSUM_CONTROL = "GW-PG-007"
DATA_DIRECTORY_CONTROL = "GW-PG-008"


def render(settings):
    lines = ["%s = '%s'" % (name, str(settings[name]).replace("'", "''"))
             for name in sorted(settings)]
    return HEADER + "\n".join(lines) + "\n"


def effective_settings(connection, names):
    """Value, type and context of each setting, as the server has them in force."""
    found = pg.rows(connection, "SELECT name, setting, vartype, context FROM pg_settings "
                                "WHERE name = ANY(%s)", (list(names),))
    return {row["name"]: row for row in found}


def normalised(connection, current, wanted):
    """The wanted value as pg_settings would show it ('10min' becomes '600000').

    Settings a session may change are converted by the server itself with SET LOCAL in
    a transaction that ends at once; a value the server refuses fails the module here,
    before any file is written.
    """
    text = str(wanted)
    if current["vartype"] == "bool":
        return "on" if text.lower() in ("on", "true", "yes", "1") else "off"
    if current["context"] not in ("user", "superuser"):
        return text
    with connection.transaction():
        connection.execute(pg.sql.SQL("SET LOCAL {} = {}").format(
            pg.ident(current["name"]), pg.literal(text)))
        return pg.rows(connection, "SELECT setting FROM pg_settings WHERE name = %s",
                       (current["name"],))[0]["setting"]


def matches(connection, current, wanted):
    return current["setting"].lower() == normalised(connection, current, wanted).lower()


def overriding_entries(connection, path, settings):
    """Settings of the baseline's file that another file, read later, sets again.

    pg_file_settings reads the files as they are now, so this holds before a reload and
    in check mode; without the baseline's file on disk there is nothing to override.
    """
    rows = pg.rows(connection, "SELECT name, sourcefile, sourceline FROM pg_file_settings "
                               "WHERE applied AND name = ANY(%s) AND sourcefile <> %s",
                   (sorted(settings), path))
    ours = pg.rows(connection, "SELECT count(*) AS entries FROM pg_file_settings "
                               "WHERE sourcefile = %s", (path,))[0]["entries"]
    if not ours:
        return {}
    return {row["name"]: "%s:%s" % (row["sourcefile"], row["sourceline"]) for row in rows}


def server_check(module, connection):
    """Let the server binary read every configuration file, as a start would.

    ``postgres -C`` parses the files and checks each value, then exits without touching
    the running cluster. It refuses to run as root, so root runs it as the cluster owner.
    """
    major = connection.info.server_version // 10000
    binary = module.params["server_binary"] or "/usr/lib/postgresql/%d/bin/postgres" % major
    config_dir = os.path.dirname(pg.rows(connection, "SHOW config_file")[0]["config_file"])
    command = [binary, "-D", config_dir, "-C", "data_directory"]
    if os.geteuid() == 0:
        owner = pwd.getpwuid(os.stat(config_dir).st_uid).pw_name
        command = ["runuser", "-u", owner, "--"] + command
    rc, _out, err = module.run_command(command)
    messages = [line.split(":  ", 1)[-1] for line in err.splitlines() if ":  " in line]
    return None if rc == 0 else "; ".join(messages) or err.strip() or "exit code %d" % rc


class ConfigReconciler(object):

    def __init__(self, module, connection):
        self.module = module
        self.params = module.params
        self.connection = connection
        self.audit = self.params["mode"] == "audit"
        self.dry_run = self.audit or module.check_mode
        self.owned = files.OwnedFiles(dry_run=True)  # written below, with a check

    def apply(self):
        settings = {name: str(value) for name, value in self.params["settings"].items()}
        before = effective_settings(self.connection, settings)
        # A setting with a dot belongs to a library (pgaudit.log) and exists only once the
        # library is loaded, which the restart after shared_preload_libraries does.
        unknown = sorted(name for name in set(settings) - set(before) if "." not in name)
        if unknown:
            self.module.fail_json(msg="settings: PostgreSQL has no setting %s; nothing was "
                                      "changed" % ", ".join(unknown))
        right = {name: name in before and matches(self.connection, before[name], value)
                 for name, value in settings.items()}
        path = self.params["path"]
        content = render(settings)
        file_right = self.owned.sync(path, content, 0o644, "postgres", "postgres")
        if not file_right and not self.dry_run:
            self.write_checked(path, content)
        restart = sorted(name for name in settings if not right[name] and (
            name not in before or before[name]["context"] == "postmaster"))
        self.overridden = overriding_entries(self.connection, path, settings)
        return self.control_findings(right), restart

    def write_checked(self, path, content):
        backup = files.write_text(path, content, 0o644, "postgres", "postgres")
        error = server_check(self.module, self.connection)
        if error:
            files.restore(path, backup)
            self.module.fail_json(msg="PostgreSQL refused the new %s, which was restored: %s"
                                  % (path, error))
        pg.rows(self.connection, "SELECT pg_reload_conf()")

    def control_findings(self, right):
        result = []
        for control, names in sorted(self.params["controls"].items()):
            overridden = ["%s (%s)" % (name, self.overridden[name]) for name in sorted(names)
                          if name in self.overridden]
            if overridden:
                result.append(finding(control, FAIL, observed="overridden: " + ", ".join(
                    overridden), reason="a file read after the baseline's sets these "
                    "settings (ALTER SYSTEM writes postgresql.auto.conf); remove them there"))
                continue
            wrong = sorted(name for name in names if not right.get(name, False))
            result.append(settled(control, not wrong, self.audit,
                                  observed=("differed: " + ", ".join(wrong)) if wrong
                                  else ", ".join(sorted(names))))
        return result

    def checksum_finding(self):
        value = pg.rows(self.connection, "SHOW data_checksums")[0]["data_checksums"]
        if value == "on":
            return finding(CHECKSUM_CONTROL, PASS, observed="on")
        return finding(CHECKSUM_CONTROL, FAIL, observed=value, reason=(
            "turning data checksums on needs the cluster stopped (pg_checksums --enable); "
            "plan it for a maintenance window"))

    def data_directory_finding(self):
        directory = pg.rows(self.connection, "SHOW data_directory")[0]["data_directory"]
        wanted = int(self.params["data_directory_mode"], 8)
        current = stat.S_IMODE(os.stat(directory).st_mode)
        if current != wanted and not self.dry_run:
            os.chmod(directory, wanted)
            self.owned.changed.append(directory)
        elif current != wanted:
            self.owned.changed.append(directory)
        return settled(DATA_DIRECTORY_CONTROL, current == wanted, self.audit,
                       observed="%s %04o" % (directory, current))


def main():
    spec = dict(
        settings=dict(type="dict", required=True),
        controls=dict(type="dict", default={}),
        path=dict(type="path", required=True),
        data_directory_mode=dict(type="str", default="0700"),
        server_binary=dict(type="path"),
        mode=dict(type="str", default="enforce", choices=["enforce", "audit"]),
    )
    spec.update(pg.connection_argument_spec())
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    for control, names in module.params["controls"].items():
        if not isinstance(names, list) or set(names) - set(module.params["settings"]):
            module.fail_json(msg="controls: %s must list settings given in settings" % control)
    pg.require_psycopg(module)
    try:
        with pg.connect(module.params) as connection:
            reconciler = ConfigReconciler(module, connection)
            findings, restart = reconciler.apply()
            findings += [reconciler.checksum_finding(), reconciler.data_directory_finding()]
    except pg.psycopg.Error as error:
        module.fail_json(msg="PostgreSQL: %s" % str(error).strip())
    result = dict(changed=bool(reconciler.owned.changed) and not reconciler.audit,
                  findings=findings, restart_required=restart,
                  changed_files=reconciler.owned.changed)
    if module._diff and reconciler.owned.diff["after"]:
        result["diff"] = reconciler.owned.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
