#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: postgresql_hba
short_description: Owns pg_hba.conf as an ordered list of declared rules
version_added: 0.1.0
description:
  - Renders the whole of pg_hba.conf from O(rules), in their order, and replaces the file
    when it differs. Rules not declared are removed.
  - Every rule is checked before the server is contacted or the file is touched. C(trust)
    is refused on network lines, C(md5) and C(password) under the default policy, and
    network lines must be C(hostssl) unless O(allow_non_ssl_host_lines) is set.
  - A changed file is written atomically with the owner and mode of the file it replaces,
    then parsed by the server itself through C(pg_hba_file_rules). If the server reports
    an error, the previous file is put back and the module fails with the server's
    message; otherwise the configuration is reloaded.
  - After the reload, a new session with the module's own login options must get in under
    the new rules; if it is refused, the previous file is put back and reloaded, so a rule
    list cannot lock out the login that manages the server.
  - A comment is written on its own line above its rule, so the file is the same byte for
    byte on every run.
options:
  path:
    description:
      - The pg_hba.conf file, for example C(/etc/postgresql/15/main/pg_hba.conf).
      - Before writing, the module checks that this is the file the server reads
        (its C(hba_file) setting).
    type: path
    required: true
  rules:
    description: The rules, in the order the server is to try them.
    type: list
    elements: dict
    required: true
    suboptions:
      type:
        description: Connection type, one of C(local), C(host), C(hostssl), C(hostnossl).
        type: str
        required: true
      databases:
        description:
          - Database names, or the keywords C(all), C(sameuser), C(samerole) and
            C(replication).
        type: list
        elements: str
        required: true
      users:
        description: Role names, C(+role) for the members of a role, or C(all).
        type: list
        elements: str
        required: true
      address:
        description:
          - Client network in CIDR form (C(192.0.2.0/24), C(2001:db8::1/128)), required
            for every type but C(local) and refused for C(local). Host bits must be zero.
        type: str
      method:
        description:
          - Authentication method, for example C(scram-sha-256), C(peer), C(cert) or
            C(reject).
        type: str
        required: true
      options:
        description: Authentication options (C(name=value) after the method), such as C(map).
        type: dict
      comment:
        description: One line of text written as a comment directly above the rule.
        type: str
  policy:
    description:
      - V(scram-only) refuses the C(md5) and C(password) methods on every line.
      - V(legacy) accepts them, for clients that cannot do SCRAM yet.
    type: str
    choices: [scram-only, legacy]
    default: scram-only
  allow_non_ssl_host_lines:
    description:
      - Accept C(host) and C(hostnossl) lines that let a client in. Without it, network
        lines must be C(hostssl); C(reject) lines of any type are always accepted.
    type: bool
    default: false
  final_reject:
    description:
      - Append C(reject) lines for every connection type (unix socket, IPv4, IPv6) after the
        declared rules, so that nothing falls through to an implicit default.
    type: bool
    default: true
  mode:
    description: V(enforce) writes the file; V(audit) only reports whether it differs.
    type: str
    choices: [enforce, audit]
    default: enforce
  login_user:
    description: Role to connect as; reading C(pg_hba_file_rules) needs a superuser.
    type: str
    default: postgres
extends_documentation_fragment:
  - groundwork.erp_baseline.postgres
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - The module connects only when the file differs and O(mode=enforce), in check mode too
    (to confirm the path is the server's C(hba_file)). Audit mode and unchanged files need
    no connection and no psycopg.
  - Addresses are CIDR networks only; host names, C(samehost), C(samenet), separate
    netmask columns and C(@file) inclusions are refused, since the module is the only
    source of the file's rules.
  - Authentication options are passed through as given; the server, not the module, judges
    them (an unknown option makes the server refuse the file, and the old file stays).
  - C(hostssl) lines on a server with C(ssl = off) are refused by the server, so the file
    is restored; turn SSL on first.
  - The server cannot show which rules it has loaded, only how it parses the file on disk.
    A file that is already right is not reloaded again.
  - Comments in an existing file are not kept; only the comments declared in O(rules).
  - Each change leaves a time-stamped backup beside the file; the module does not prune
    them.
author:
  - groundwork platform team
"""

EXAMPLES = r"""
- name: pg_hba - the superuser by peer on the socket, tenants over TLS only
  groundwork.erp_baseline.postgresql_hba:
    path: /etc/postgresql/15/main/pg_hba.conf
    rules:
      - {type: local, databases: [all], users: [postgres], method: peer}
      - type: hostssl
        databases: [tenant_a]
        users: [tenant_a_app, tenant_a_ro]
        address: 192.0.2.10/32
        method: scram-sha-256
        comment: tenant_a application workers
      - type: hostssl
        databases: [all]
        users: [+dba]
        address: 2001:db8::5/128
        method: cert
        options: {clientname: DN}

- name: Report whether pg_hba.conf holds exactly these rules, change nothing
  groundwork.erp_baseline.postgresql_hba:
    path: /etc/postgresql/15/main/pg_hba.conf
    mode: audit
    rules: "{{ postgresql_baseline_hba_rules }}"
"""

RETURN = r"""
findings:
  description: One finding, for the control "pg_hba holds only the declared rules".
  returned: always
  type: list
  elements: dict
backup:
  description: Copy of the previous file, when this run replaced it.
  returned: always
  type: str
rules:
  description: Rule lines in the rendered file, the final reject lines included.
  returned: always
  type: int
"""

import ipaddress
import os
import re
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.groundwork.erp_baseline.plugins.module_utils import files
from ansible_collections.groundwork.erp_baseline.plugins.module_utils import postgres as pg
from ansible_collections.groundwork.erp_baseline.plugins.module_utils.findings import (
    FAIL, FIXED, PASS, finding)

CONTROL = "GW-PG-030"
RELOAD_WAIT_SECONDS = 10
HEADER = ("# Managed by groundwork.erp_baseline (postgresql_hba). Local changes are replaced.\n"
          "# Rules are tried in order; the first that matches decides.\n")
TYPES = ("local", "host", "hostssl", "hostnossl")
METHODS = ("trust", "reject", "scram-sha-256", "md5", "password", "gss", "sspi", "ident",
           "peer", "ldap", "radius", "cert", "pam", "bsd")
LEGACY_METHODS = ("md5", "password")
DATABASE_KEYWORDS = ("all", "sameuser", "samerole", "samegroup", "replication")
USER_KEYWORDS = ("all",)
# Characters the server's tokenizer takes as part of a bare word; anything else is quoted.
BARE_NAME = re.compile(r"^[A-Za-z0-9_$.-]+$")
OPTION_NAME = re.compile(r"^[a-z_]+$")
BARE_OPTION_VALUE = re.compile(r"^[A-Za-z0-9_$.=:/-]+$")
FINAL_REJECTS = (
    dict(type="local", databases=["all"], users=["all"], address=None, method="reject"),
    dict(type="host", databases=["all"], users=["all"], address="0.0.0.0/0", method="reject"),
    dict(type="host", databases=["all"], users=["all"], address="::/0", method="reject"),
)


class RuleError(ValueError):
    pass


def check_name(name, keywords, what):
    """The pg_hba token of one database or role name; raises RuleError when it cannot be."""
    if name in keywords:
        return name
    if not name or '"' in name or "\n" in name or "\r" in name:
        raise RuleError("%s %r cannot be written to pg_hba.conf" % (what, name))
    if name.startswith("@"):
        raise RuleError("%s %r: @file inclusions are refused, declare the names" % (what, name))
    if len(name.encode("utf-8")) > 63:
        raise RuleError("%s %r is longer than PostgreSQL's 63-byte names" % (what, name))
    if name.startswith("+"):
        # The server reads +role as a group only unquoted, so the role name must be bare.
        if not BARE_NAME.match(name[1:]):
            raise RuleError("%s %r: a +role name may hold only letters, digits and _$.-"
                            % (what, name))
        return name
    return name if BARE_NAME.match(name) else '"%s"' % name


def check_address(rule):
    """The normalised CIDR of a network rule."""
    address = rule.get("address")
    if rule["type"] == "local":
        if address:
            raise RuleError("address %r given for a local rule" % address)
        return None
    if not address:
        raise RuleError("address is required for a %s rule" % rule["type"])
    if "/" not in address:
        raise RuleError("address %r must be in CIDR form, address/prefix" % address)
    try:
        return str(ipaddress.ip_network(address, strict=True))
    except ValueError as error:
        raise RuleError("address %r: %s" % (address, error)) from None


def check_method(rule, params):
    method = rule["method"]
    network = rule["type"] != "local"
    if method not in METHODS:
        raise RuleError("unknown method %r; known: %s" % (method, ", ".join(METHODS)))
    if method == "trust" and network:
        raise RuleError("trust is refused on a %s line" % rule["type"])
    if method in LEGACY_METHODS and params["policy"] == "scram-only":
        raise RuleError("method %s is refused under policy scram-only" % method)
    if method == "peer" and network:
        raise RuleError("peer works only on local lines")
    if method == "cert" and rule["type"] != "hostssl":
        raise RuleError("cert works only on hostssl lines")
    if (rule["type"] in ("host", "hostnossl") and method != "reject"
            and not params["allow_non_ssl_host_lines"]):
        raise RuleError("%s lines accept connections without TLS; use hostssl or set "
                        "allow_non_ssl_host_lines" % rule["type"])


def option_tokens(options):
    tokens = []
    for name in sorted(options or {}):
        value = options[name]
        if isinstance(value, bool):
            value = "1" if value else "0"
        value = str(value)
        if not OPTION_NAME.match(name):
            raise RuleError("option name %r is not a pg_hba option name" % name)
        if '"' in value or "\n" in value or "\r" in value:
            raise RuleError("option %s: the value cannot hold quotes or line breaks" % name)
        # A comma or a blank would split the token, so such values are quoted.
        bare = BARE_OPTION_VALUE.match(value)
        tokens.append("%s=%s" % (name, value if bare else '"%s"' % value))
    return tokens


def check_comment(comment):
    if comment is None:
        return None
    if "\n" in comment or "\r" in comment:
        raise RuleError("comment must be one line")
    return comment.strip()


def checked_rule(rule, params):
    """The rule as the columns to write; raises RuleError naming what is wrong."""
    if rule["type"] not in TYPES:
        raise RuleError("type %r is not one of %s" % (rule["type"], ", ".join(TYPES)))
    if not rule["databases"] or not rule["users"]:
        raise RuleError("databases and users must each list at least one name")
    check_method(rule, params)
    return dict(
        comment=check_comment(rule.get("comment")),
        columns=[rule["type"],
                 ",".join(check_name(n, DATABASE_KEYWORDS, "database") for n in rule["databases"]),
                 ",".join(check_name(n, USER_KEYWORDS, "user") for n in rule["users"]),
                 check_address(rule) or "",
                 rule["method"]] + option_tokens(rule.get("options")),
    )


def checked_rules(module):
    """Every declared rule checked, then the final rejects; fails naming the first bad rule."""
    result = []
    for index, rule in enumerate(module.params["rules"]):
        try:
            result.append(checked_rule(rule, module.params))
        except RuleError as error:
            module.fail_json(msg="rules[%d] (%s %s): %s" % (
                index, rule.get("type"), rule.get("address") or "socket", error))
    if module.params["final_reject"]:
        result += [checked_rule(rule, module.params) for rule in FINAL_REJECTS]
    return result


def render(rules):
    """The whole file, and the line number of each rule, for mapping server errors back."""
    widths = [0] * 4
    for rule in rules:
        for position, column in enumerate(rule["columns"][:4]):
            widths[position] = max(widths[position], len(column))
    lines = HEADER.splitlines()
    line_numbers = []
    for rule in rules:
        if rule["comment"] is not None:
            lines.append(("# " + rule["comment"]).rstrip())
        padded = [column.ljust(widths[position])
                  for position, column in enumerate(rule["columns"][:4])]
        lines.append(" ".join(padded + rule["columns"][4:]).rstrip())
        line_numbers.append(len(lines))
    return "\n".join(lines) + "\n", line_numbers


def server_errors(connection, line_numbers, declared):
    """The server's parse errors in the file on disk, each with the rule it came from."""
    errors = []
    for row in pg.rows(connection, "SELECT line_number, error FROM pg_hba_file_rules "
                                   "WHERE error IS NOT NULL ORDER BY line_number"):
        where = "line %s" % row["line_number"]
        if row["line_number"] in line_numbers:
            index = line_numbers.index(row["line_number"])
            where += " (rules[%d])" % index if index < declared else " (final reject)"
        errors.append("%s: %s" % (where, row["error"]))
    return errors


def check_server_path(module, connection):
    hba_file = pg.rows(connection, "SELECT setting FROM pg_settings WHERE name = 'hba_file'")
    served = hba_file[0]["setting"] if hba_file else None
    if not served or os.path.realpath(served) != os.path.realpath(module.params["path"]):
        module.fail_json(msg="path: %s is not the file the server reads (hba_file = %s)"
                             % (module.params["path"], served))


def write_checked(module, connection, text, line_numbers):
    """Write the new file, let the server parse it, reload, and prove the login still works.

    Any failure puts the previous file back (and reloads it) before the module fails.
    """
    path = module.params["path"]
    previous = files.read_text(path)
    state = files.file_state(path) or default_state(path)
    backup = files.write_text(path, text, *state, backup=True)
    try:
        errors = server_errors(connection, line_numbers, len(module.params["rules"]))
    except pg.psycopg.Error as error:
        errors = ["reading pg_hba_file_rules failed: %s" % str(error).strip()]
    if errors:
        restore(path, previous, state, backup)
        module.fail_json(msg="the server refused the new pg_hba.conf; the previous file is "
                             "back in place: " + "; ".join(errors), errors=errors)
    locked_out = reload_and_login(module.params, connection)
    if locked_out:
        restore(path, previous, state, backup)
        pg.rows(connection, "SELECT pg_reload_conf()")
        module.fail_json(msg="the new pg_hba.conf would lock out this module's own login "
                             "(%s as %s): %s; the previous file is back in place and reloaded"
                             % (module.params["login_host"], module.params["login_user"],
                                locked_out))
    return backup


def reload_and_login(params, connection):
    """Reload, then log in afresh; None when a session under the new rules got in.

    The reload is asynchronous: a session whose pg_conf_load_time() is later than the
    request was forked after the server had read the new file.
    """
    requested = pg.rows(connection, "SELECT clock_timestamp() AS now")[0]["now"]
    pg.rows(connection, "SELECT pg_reload_conf()")
    deadline = time.monotonic() + RELOAD_WAIT_SECONDS
    while True:
        try:
            with pg.connect(params) as fresh:
                loaded = pg.rows(fresh, "SELECT pg_conf_load_time() AS loaded")[0]["loaded"]
        except pg.psycopg.OperationalError as error:
            # The old rules let this login in, so a refusal now comes from the new ones.
            return first_line(error)
        if loaded > requested:
            return None
        if time.monotonic() > deadline:
            return "the server did not reload within %d seconds" % RELOAD_WAIT_SECONDS
        time.sleep(0.1)


def first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def restore(path, previous, state, backup):
    if previous is None:
        os.unlink(path)
    else:
        files.write_text(path, previous, *state, backup=False)
    if backup:
        os.unlink(backup)  # identical to the restored file


def default_state(path):
    """Owner and a private mode for a file that does not exist yet: its folder's owner."""
    _, owner, group = files.file_state(os.path.dirname(path) or ".")
    return 0o640, owner, group


def argument_spec():
    spec = dict(
        path=dict(type="path", required=True),
        rules=dict(type="list", elements="dict", required=True, options=dict(
            type=dict(type="str", required=True),
            databases=dict(type="list", elements="str", required=True),
            users=dict(type="list", elements="str", required=True),
            address=dict(type="str"),
            method=dict(type="str", required=True),
            options=dict(type="dict"),
            comment=dict(type="str"),
        )),
        policy=dict(type="str", default="scram-only", choices=["scram-only", "legacy"]),
        allow_non_ssl_host_lines=dict(type="bool", default=False),
        final_reject=dict(type="bool", default=True),
        mode=dict(type="str", default="enforce", choices=["enforce", "audit"]),
    )
    spec.update(pg.connection_argument_spec())
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    rules = checked_rules(module)
    text, line_numbers = render(rules)
    current = files.read_text(params["path"])
    audit = params["mode"] == "audit"
    different = current != text
    result = dict(changed=different and not audit, backup=None, rules=len(rules))
    if different and module._diff:
        result["diff"] = dict(before=current or "", after=text,
                              before_header=params["path"], after_header=params["path"])
    if different and not audit:
        pg.require_psycopg(module)
        try:
            with pg.connect(params) as connection:
                check_server_path(module, connection)
                if not module.check_mode:
                    result["backup"] = write_checked(module, connection, text, line_numbers)
        except pg.psycopg.Error as error:
            module.fail_json(msg="PostgreSQL: %s" % str(error).strip())
    if not different:
        status = PASS
    elif audit or module.check_mode:
        status = FAIL
    else:
        status = FIXED
    observed = ("%d rules as declared" % len(rules) if not different
                else "file missing" if current is None else "file differs from the rules")
    result["findings"] = [finding(CONTROL, status, observed=observed,
                                  expected="%d declared rules, in order" % len(rules))]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
