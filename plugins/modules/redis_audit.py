#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Controls this module reports (titles in controls/catalog.yml):
#   GW-REDIS-020  protected-mode is on
#   GW-REDIS-021  Redis does not listen on every address
#   GW-REDIS-022  no enabled user logs in without a password
#   GW-REDIS-023  only admin users may run every command on every key
#   GW-REDIS-024  application users cannot run dangerous commands
#   GW-REDIS-025  connections beyond loopback use TLS
#   GW-REDIS-026  maxmemory is set
#   GW-REDIS-027  data is persisted where the instance needs it
#   GW-REDIS-028  config file, aclfile and data directory are closed to other users
#   GW-REDIS-029  requirepass is not set beside an aclfile

from __future__ import annotations

DOCUMENTATION = r"""
---
module: redis_audit
short_description: Reports the security state of a Redis server as findings
version_added: 0.1.0
description:
  - Reads the ACL users, the settings that matter and the server's files, and returns one
    finding per control with the observed and the expected value. It changes nothing.
  - Whether an application user may run a dangerous command is asked of Redis itself with
    C(ACL DRYRUN) (Redis 7), which also counts selectors. On older servers the module
    evaluates each user's rules with the server's command categories (C(ACL CAT)).
  - A value the login may not read gives an C(unknown) finding with the reason; a failed
    connection makes every finding C(unknown), so an audit run does not stop a play.
options:
  admin_users:
    description:
      - Users allowed every command on every key (GW-REDIS-023) and the dangerous
        commands (GW-REDIS-024).
    type: list
    elements: str
    default: []
  expect_persistence:
    description:
      - Judge whether RDB snapshots or the AOF are on (GW-REDIS-027). Without it the
        control is reported as skipped, as for a pure cache.
    type: bool
    default: false
extends_documentation_fragment:
  - groundwork.erp_baseline.redis
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
notes:
  - The dangerous commands are FLUSHALL, FLUSHDB, CONFIG SET, DEBUG, KEYS, MODULE LOAD,
    SHUTDOWN, REPLICAOF (and its alias SLAVEOF) and MIGRATE. CONFIG GET and the other
    read-only subcommands are not counted.
  - Disabled users are left out of GW-REDIS-022 to GW-REDIS-024, since nobody can log in
    as them; connections opened before a user was disabled keep its rights until they
    close.
  - GW-REDIS-023 fails for a user whose rules start from C(+@all) (so it may also run
    commands added later) on every key, even with some commands taken away.
  - File modes (GW-REDIS-028) are read only when the server runs on the module's host
    (unix socket or loopback address); otherwise the control is unknown. A file or
    directory passes when others have no access and its group cannot write.
  - The value of C(requirepass) is read only to see whether it is set; it is never
    returned.
requirements:
  - redis-py 4.3 or later on the Redis host (Debian - python3-redis)
author:
  - groundwork platform team
"""

EXAMPLES = r"""
- name: Audit the cache server
  groundwork.erp_baseline.redis_audit:
    login_user: gw_admin
    login_password: "{{ redis_admin_password }}"
    admin_users: [gw_admin]
  register: redis_audit

- name: Audit an instance that must keep its data
  groundwork.erp_baseline.redis_audit:
    login_unix_socket: /run/redis/redis-server.sock
    login_user: gw_admin
    login_password: "{{ redis_admin_password }}"
    admin_users: [gw_admin]
    expect_persistence: true
"""

RETURN = r"""
findings:
  description: One finding per control, with status pass, fail, skipped or unknown.
  returned: always
  type: list
  elements: dict
"""

import ipaddress
import os
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.groundwork.erp_baseline.plugins.module_utils import redis_acl as acl
from ansible_collections.groundwork.erp_baseline.plugins.module_utils import (
    redis_client as rc)
from ansible_collections.groundwork.erp_baseline.plugins.module_utils.findings import (
    FAIL, PASS, SKIPPED, UNKNOWN, finding)

CONTROLS = ["GW-REDIS-%03d" % number for number in range(20, 30)]
SETTINGS = ("protected-mode", "bind", "port", "tls-port", "maxmemory", "save", "appendonly",
            "dir", "aclfile", "requirepass")
EVERY_ADDRESS = ("0.0.0.0", "*", "::", "::*")
# (name in the command table, a harmless invocation for ACL DRYRUN); nothing is executed.
DANGEROUS = (
    ("flushall", ("FLUSHALL",)),
    ("flushdb", ("FLUSHDB",)),
    ("config|set", ("CONFIG", "SET", "maxmemory", "0")),
    ("debug", ("DEBUG", "SLEEP", "0")),
    ("keys", ("KEYS", "*")),
    ("module|load", ("MODULE", "LOAD", "/nonexistent")),
    ("shutdown", ("SHUTDOWN",)),
    ("replicaof", ("REPLICAOF", "NO", "ONE")),
    ("slaveof", ("SLAVEOF", "NO", "ONE")),
    ("migrate", ("MIGRATE", "127.0.0.1", "6379", "gw-probe", "0", "1000")),
)
COMMAND_DENIED = "no permissions to run"


class Observed(object):
    """Everything the controls look at, each read once; None where it could not be read."""

    def __init__(self, params):
        self.params = params
        self.reasons = {}
        self.settings = {}
        self.users = None
        self.config_file = None
        self.dangerous = None

    def load(self, client):
        commands = [("ACL LIST",), ("INFO", "server")]
        commands += [("CONFIG GET", name) for name in SETTINGS]
        replies = rc.run_pipeline(client, commands)
        self.users = self.keep("users", replies[0], acl.parse_acl_list)
        info = self.keep("info", replies[1], dict)
        self.config_file = info.get("config_file") if info is not None else None
        for name, reply in zip(SETTINGS, replies[2:]):
            found = self.keep(name, reply, dict)
            if found is not None and name in found:
                self.settings[name] = str(found[name])
        if self.users is None:
            return
        try:
            self.dangerous = dangerous_rights(client, self.application_users())
        except rc.redis.RedisError as error:
            self.reasons["dangerous"] = rc.error_text(error)

    def keep(self, topic, reply, convert):
        try:
            if rc.is_error(reply):
                raise reply
            return convert(reply)
        except rc.redis.RedisError as error:
            self.reasons[topic] = rc.error_text(error)
            return None

    def enabled_users(self):
        return [user for name, user in sorted(self.users.items()) if user.enabled]

    def application_users(self):
        admins = set(self.params["admin_users"])
        return [user for user in self.enabled_users() if user.name not in admins]


# Dangerous commands


def dangerous_rights(client, users):
    """{user: [dangerous commands it may run]}, asked with ACL DRYRUN where it exists."""
    commands = [("ACL DRYRUN", user.name) + probe
                for user in users for _name, probe in DANGEROUS]
    replies = rc.run_pipeline(client, commands) if commands else []
    if any(rc.is_error(reply) and "dryrun" in str(reply).lower() for reply in replies):
        return rights_from_rules(client, users)
    found = {}
    for index, user in enumerate(users):
        answers = replies[index * len(DANGEROUS):(index + 1) * len(DANGEROUS)]
        for (name, _probe), answer in zip(DANGEROUS, answers):
            if rc.is_error(answer):
                raise answer
            # A key the user may not touch still means the command itself is allowed.
            if COMMAND_DENIED not in str(answer):
                found.setdefault(user.name, []).append(name)
    return found


def rights_from_rules(client, users):
    """The same answer from each user's rules and the server's categories (Redis 6)."""
    categories = client.execute_command("ACL CAT")
    table = acl.table_from_replies(categories, rc.run_pipeline(
        client, [("ACL CAT", category) for category in categories]))
    found = {}
    for user in users:
        allowed = table.allowed(user.commands)[1]
        for name, _probe in DANGEROUS:
            command, _, subcommand = name.partition("|")
            if table.leaf(command, subcommand) in allowed:
                found.setdefault(user.name, []).append(name)
    return found


# Findings


def unreadable(control_id, observed, topic):
    return finding(control_id, UNKNOWN, reason="%s could not be read: %s"
                   % (topic, observed.reasons.get(topic, "not visible to this login")))


def judged(control_id, failures, passed, expected):
    if failures:
        return finding(control_id, FAIL, observed=failures, expected=expected)
    return finding(control_id, PASS, observed=passed, expected=expected)


def setting_finding(control_id, observed, name, is_right, expected):
    value = observed.settings.get(name)
    if value is None:
        return unreadable(control_id, observed, name)
    status = PASS if is_right(value) else FAIL
    return finding(control_id, status, observed="%s = %s" % (name, value or '""'),
                   expected=expected)


def bind_addresses(value):
    """The addresses of a bind setting; a leading '-' only marks an optional one."""
    return [address.lstrip("-") for address in value.split()]


def is_loopback(address):
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def binds_everywhere(value):
    addresses = bind_addresses(value)
    return not addresses or any(address in EVERY_ADDRESS for address in addresses)


def beyond_loopback(value):
    addresses = bind_addresses(value)
    return not addresses or not all(is_loopback(address) for address in addresses)


def bind_finding(observed):
    return setting_finding("GW-REDIS-021", observed, "bind",
                           lambda value: not binds_everywhere(value),
                           "specific addresses, not 0.0.0.0, * or ::")


def tls_finding(observed):
    settings = observed.settings
    missing = [name for name in ("bind", "port", "tls-port") if name not in settings]
    if missing:
        return unreadable("GW-REDIS-025", observed, missing[0])
    expected = "TLS only (port 0, tls-port set) when listening beyond loopback"
    shown = "bind = %s, port = %s, tls-port = %s" % (
        settings["bind"] or '""', settings["port"], settings["tls-port"])
    if settings["port"] == "0" and settings["tls-port"] == "0":
        return finding("GW-REDIS-025", PASS, observed="unix socket only", expected=expected)
    if not beyond_loopback(settings["bind"]):
        return finding("GW-REDIS-025", PASS, observed=shown + " (loopback only)",
                       expected=expected)
    plain_tcp = settings["port"] != "0"
    return finding("GW-REDIS-025", FAIL if plain_tcp or settings["tls-port"] == "0" else PASS,
                   observed=shown, expected=expected)


def nopass_finding(observed):
    if observed.users is None:
        return unreadable("GW-REDIS-022", observed, "users")
    found = [user.name for user in observed.enabled_users() if user.nopass]
    return judged("GW-REDIS-022", found, "enabled users checked: %d"
                  % len(observed.enabled_users()), "no enabled user without a password")


def full_access_finding(observed):
    if observed.users is None:
        return unreadable("GW-REDIS-023", observed, "users")
    found = [user.name for user in observed.application_users()
             if user.commands[:1] and user.commands[0] in acl.FULL_ACCESS
             and user.has_all_keys()]
    return judged("GW-REDIS-023", found, "application users checked: %d"
                  % len(observed.application_users()),
                  "+@all on ~* for admin users only (%s)"
                  % (", ".join(observed.params["admin_users"]) or "none given"))


def dangerous_finding(observed):
    if observed.users is None:
        return unreadable("GW-REDIS-024", observed, "users")
    if observed.dangerous is None:
        return unreadable("GW-REDIS-024", observed, "dangerous")
    found = ["%s (%s)" % (name, " ".join(commands))
             for name, commands in sorted(observed.dangerous.items())]
    return judged("GW-REDIS-024", found, "application users checked: %d"
                  % len(observed.application_users()),
                  "no application user may run FLUSHALL, FLUSHDB, CONFIG SET, DEBUG, KEYS, "
                  "MODULE, SHUTDOWN, REPLICAOF or MIGRATE")


def persistence_finding(observed):
    if not observed.params["expect_persistence"]:
        return finding("GW-REDIS-027", SKIPPED,
                       reason="persistence not expected (expect_persistence)")
    settings = observed.settings
    if "save" not in settings or "appendonly" not in settings:
        return unreadable("GW-REDIS-027", observed,
                          "save" if "save" not in settings else "appendonly")
    persisted = bool(settings["save"].strip()) or settings["appendonly"] == "yes"
    return finding("GW-REDIS-027", PASS if persisted else FAIL,
                   observed='save = "%s", appendonly = %s'
                   % (settings["save"], settings["appendonly"]),
                   expected="RDB snapshots (save) or appendonly yes")


def requirepass_finding(observed):
    settings = observed.settings
    if "requirepass" not in settings or "aclfile" not in settings:
        return unreadable("GW-REDIS-029", observed,
                          "requirepass" if "requirepass" not in settings else "aclfile")
    both = bool(settings["requirepass"]) and bool(settings["aclfile"])
    shown = "requirepass %s, aclfile %s" % ("set" if settings["requirepass"] else "unset",
                                           settings["aclfile"] or "unset")
    return finding("GW-REDIS-029", FAIL if both else PASS, observed=shown,
                   expected="no requirepass when an aclfile is used")


def file_modes(observed):
    """(problems, unreadable, checked) for the config file, the aclfile and the data dir."""
    paths = (("config file", observed.config_file),
             ("aclfile", observed.settings.get("aclfile")),
             ("data directory", observed.settings.get("dir")))
    problems, missing, checked = [], [], []
    if observed.config_file is None:
        missing.append("config file: INFO could not be read: %s" % observed.reasons["info"])
    for label, path in paths:
        if not path:
            continue
        if not os.path.isabs(path):
            missing.append("%s %s: a relative path" % (label, path))
            continue
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except (IOError, OSError) as error:
            missing.append("%s %s: %s" % (label, path, error.strerror or error))
            continue
        entry = "%s %s %04o" % (label, path, mode)
        checked.append(entry)
        if mode & 0o027:
            problems.append(entry)
    return problems, missing, checked


def file_finding(observed):
    expected = "no access for others, no write for the group"
    if not rc.server_is_local(observed.params):
        return finding("GW-REDIS-028", UNKNOWN,
                       reason="the server is not on this host, so its files were not read")
    if "dir" not in observed.settings:
        return unreadable("GW-REDIS-028", observed, "dir")
    problems, missing, checked = file_modes(observed)
    if problems:
        return finding("GW-REDIS-028", FAIL, observed=problems, expected=expected)
    if missing:
        return finding("GW-REDIS-028", UNKNOWN, reason="; ".join(missing))
    return finding("GW-REDIS-028", PASS, observed=checked, expected=expected)


def all_findings(observed):
    return [
        setting_finding("GW-REDIS-020", observed, "protected-mode",
                        lambda value: value == "yes", "yes"),
        bind_finding(observed),
        nopass_finding(observed),
        full_access_finding(observed),
        dangerous_finding(observed),
        tls_finding(observed),
        setting_finding("GW-REDIS-026", observed, "maxmemory",
                        lambda value: value != "0", "a limit in bytes, not 0"),
        persistence_finding(observed),
        file_finding(observed),
        requirepass_finding(observed),
    ]


def all_unknown(reason):
    return [finding(control_id, UNKNOWN, reason=reason) for control_id in CONTROLS]


def argument_spec():
    spec = dict(
        admin_users=dict(type="list", elements="str", default=[]),
        expect_persistence=dict(type="bool", default=False),
    )
    spec.update(rc.connection_argument_spec())
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    rc.require_redis(module)
    observed = Observed(module.params)
    try:
        observed.load(rc.connect(module.params))
    except rc.redis.ConnectionError as error:
        module.exit_json(changed=False, findings=all_unknown(
            "could not connect: %s" % rc.error_text(error)))
    except rc.redis.RedisError as error:
        module.exit_json(changed=False, findings=all_unknown(
            "could not read the server: %s" % rc.error_text(error)))
    module.exit_json(changed=False, findings=all_findings(observed))


if __name__ == "__main__":
    main()
