#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Controls this module reports (titles in controls/catalog-postgresql-audit.yml):
#   GW-PG-031  no superuser but the bootstrap role
#   GW-PG-032  every login role keeps a SCRAM-SHA-256 verifier
#   GW-PG-033  no trust line in pg_hba
#   GW-PG-034  the server parses pg_hba without errors
#   GW-PG-035  ssl is on
#   GW-PG-036  password_encryption is scram-sha-256
#   GW-PG-037  PUBLIC cannot CREATE in schema public, in any connectable database
#   GW-PG-038  PUBLIC cannot CONNECT to the databases
#   GW-PG-039  log_connections is on
#   GW-PG-040  log_disconnections is on
#   GW-PG-041  log_statement logs DDL
#   GW-PG-042  log_min_duration_statement logs slow statements
#   GW-PG-043  log_line_prefix names user, database and client
#   GW-PG-044  pgaudit is loaded (shared_preload_libraries)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: postgresql_audit
short_description: Reports the security state of a PostgreSQL server as findings
version_added: 0.1.0
description:
  - Reads roles, pg_hba, settings and privileges in a few catalog queries and returns one
    finding per control, with the observed value. It changes nothing.
  - A value the login cannot read (for example C(pg_authid) without superuser) gives an
    C(unknown) finding with the reason; a missing psycopg or a failed connection makes
    every finding C(unknown), so an audit run never stops a play.
  - Schema C(public) is checked in every database that accepts connections, one
    connection each.
options:
  ignore_databases:
    description:
      - Databases left out of the check for CONNECT granted to PUBLIC (GW-PG-038).
        The CREATE check on schema C(public) covers every database that accepts
        connections, C(template1) included, since new databases copy it.
    type: list
    elements: str
    default: [template0, template1, postgres]
  allow_local_trust:
    description:
      - Accept C(trust) on C(local) lines (unix socket) in GW-PG-033; network trust lines
        always fail.
    type: bool
    default: false
  expect_pgaudit:
    description:
      - Judge whether pgaudit is in C(shared_preload_libraries) (GW-PG-044). Without it the
        control is reported as skipped.
    type: bool
    default: false
  login_user:
    description: Role to connect as; a superuser sees everything, others get unknowns.
    type: str
    default: postgres
  login_db:
    description: Database to connect to first.
    type: str
    default: postgres
extends_documentation_fragment:
  - groundwork.erp_baseline.postgres
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
notes:
  - The bootstrap superuser (oid 10) without a password is not a failure of GW-PG-032,
    since on Debian it logs in by peer over the socket; with an md5 or plaintext
    password it is.
  - C(log_statement) passes at C(ddl), C(mod) or C(all); C(mod) logs DDL as well.
  - pg_hba checks read the file on disk through C(pg_hba_file_rules), which may be newer
    than what the server has loaded if nobody reloaded it.
  - A database the login cannot connect to gives an unknown GW-PG-037 naming it.
  - Schema C(public) can only be read from inside its database, so GW-PG-037 costs one
    connection per database that accepts connections; everything else is read in five
    queries on one connection.
  - GW-PG-038 judges only CONNECT granted to PUBLIC; CONNECT granted to other roles is left
    to the tenant module.
author:
  - groundwork platform team
"""

EXAMPLES = r"""
- name: Audit the database server
  groundwork.erp_baseline.postgresql_audit:
    expect_pgaudit: true
  register: postgresql_audit

- name: Include the maintenance databases in the CONNECT check
  groundwork.erp_baseline.postgresql_audit:
    ignore_databases: [template0]
"""

RETURN = r"""
findings:
  description: One finding per control, with status pass, fail, skipped or unknown.
  returned: always
  type: list
  elements: dict
databases:
  description: Databases whose schema public was read.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.groundwork.erp_baseline.plugins.module_utils import postgres as pg
from ansible_collections.groundwork.erp_baseline.plugins.module_utils.findings import (
    FAIL, PASS, SKIPPED, UNKNOWN, finding)

BOOTSTRAP_OID = 10
SETTINGS = ("ssl", "password_encryption", "log_connections", "log_disconnections",
            "log_statement", "log_min_duration_statement", "log_line_prefix",
            "shared_preload_libraries")
DDL_LOGGING = ("ddl", "mod", "all")

SETTINGS_QUERY = "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)"
SUPERUSERS_QUERY = "SELECT rolname FROM pg_roles WHERE rolsuper AND oid <> %s ORDER BY 1"
# The stored password is read only to classify it here; it never leaves this module.
PASSWORDS_QUERY = ("SELECT oid, rolname, rolpassword FROM pg_authid "
                   "WHERE rolcanlogin ORDER BY rolname")
HBA_QUERY = ("SELECT line_number, type, database, user_name, auth_method, error "
             "FROM pg_hba_file_rules ORDER BY line_number")
# PUBLIC is grantee 0 in aclexplode; a NULL acl means the built-in default.
DATABASES_QUERY = """
SELECT d.datname AS name, d.datallowconn AS allows_connections,
       EXISTS (SELECT 1 FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
               WHERE a.grantee = 0 AND a.privilege_type = 'CONNECT') AS public_connect
FROM pg_database d ORDER BY d.datname
"""
PUBLIC_SCHEMA_QUERY = """
SELECT EXISTS (SELECT 1 FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
               WHERE a.grantee = 0 AND a.privilege_type = 'CREATE') AS public_create
FROM pg_namespace n WHERE n.nspname = 'public'
"""


def first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def read(connection, query, params=None):
    """(rows, None), or (None, the reason) when the login may not read them."""
    try:
        return pg.rows(connection, query, params), None
    except pg.psycopg.Error as error:
        return None, first_line(error)


class Observed(object):
    """Everything the controls look at, each read once; a value is None if unreadable."""

    def __init__(self, params):
        self.params = params
        self.reasons = {}
        self.settings = {}
        self.superusers = self.passwords = self.hba = self.databases = None
        self.public_create = {}

    def load(self, connection):
        settings = self.fetch("settings", connection, SETTINGS_QUERY, (list(SETTINGS),))
        self.settings = {row["name"]: row["setting"] for row in settings or []}
        self.superusers = self.fetch("superusers", connection, SUPERUSERS_QUERY,
                                     (BOOTSTRAP_OID,))
        self.passwords = self.fetch("passwords", connection, PASSWORDS_QUERY)
        if self.passwords is not None:
            self.passwords = [dict(oid=row["oid"], name=row["rolname"],
                                   kind=pg.password_kind(row["rolpassword"]))
                              for row in self.passwords]
        self.hba = self.fetch("hba", connection, HBA_QUERY)
        self.databases = self.fetch("databases", connection, DATABASES_QUERY)
        for database in self.databases or []:
            if database["allows_connections"]:
                self.public_create[database["name"]] = self.schema_public(database["name"])

    def fetch(self, topic, connection, query, params=None):
        found, reason = read(connection, query, params)
        if reason:
            self.reasons[topic] = reason
        return found

    def schema_public(self, dbname):
        """True or False for PUBLIC's CREATE on schema public, 'absent', or the error."""
        try:
            with pg.connect(self.params, dbname) as connection:
                found = pg.rows(connection, PUBLIC_SCHEMA_QUERY)
        except pg.psycopg.Error as error:
            return "unreadable: %s" % first_line(error)
        return found[0]["public_create"] if found else "absent"


def unreadable(control_id, observed, topic, what):
    return finding(control_id, UNKNOWN,
                   reason="%s could not be read: %s" % (what, observed.reasons.get(topic)))


def judged(control_id, failures, passed, expected):
    """pass with a summary of what was checked, or fail listing what is wrong."""
    if failures:
        return finding(control_id, FAIL, observed=failures, expected=expected)
    return finding(control_id, PASS, observed=passed, expected=expected)


def superuser_finding(observed):
    if observed.superusers is None:
        return unreadable("GW-PG-031", observed, "superusers", "pg_roles")
    names = [row["rolname"] for row in observed.superusers]
    return judged("GW-PG-031", names, "only the bootstrap superuser",
                  "no superuser but the bootstrap role")


def password_finding(observed):
    if observed.passwords is None:
        return unreadable("GW-PG-032", observed, "passwords", "pg_authid")
    weak = ["%s (%s)" % (role["name"], role["kind"].replace("none", "no password"))
            for role in observed.passwords
            if role["kind"] != "scram-sha-256"
            and not (role["oid"] == BOOTSTRAP_OID and role["kind"] == "none")]
    return judged("GW-PG-032", weak, "login roles checked: %d" % len(observed.passwords),
                  "every login role has a SCRAM-SHA-256 verifier")


def trust_finding(observed):
    if observed.hba is None:
        return unreadable("GW-PG-033", observed, "hba", "pg_hba_file_rules")
    allow_local = observed.params["allow_local_trust"]
    trusted = ["line %s: %s %s %s" % (row["line_number"], row["type"],
                                      ",".join(row["database"]), ",".join(row["user_name"]))
               for row in observed.hba
               if row["auth_method"] == "trust"
               and not (allow_local and row["type"] == "local")]
    expected = "no trust line" + (" but on local lines" if allow_local else "")
    return judged("GW-PG-033", trusted, "no trust line", expected)


def hba_error_finding(observed):
    if observed.hba is None:
        return unreadable("GW-PG-034", observed, "hba", "pg_hba_file_rules")
    errors = ["line %s: %s" % (row["line_number"], row["error"])
              for row in observed.hba if row["error"]]
    return judged("GW-PG-034", errors, "lines parsed: %d" % len(observed.hba), "no errors")


def setting_finding(control_id, observed, name, is_right, expected):
    value = observed.settings.get(name)
    if value is None:
        reason = observed.reasons.get("settings") or "not visible to this login"
        return finding(control_id, UNKNOWN, reason="%s could not be read: %s" % (name, reason))
    status = PASS if is_right(value) else FAIL
    return finding(control_id, status, observed="%s = %s" % (name, value), expected=expected)


def prefix_names_everyone(prefix):
    return "%u" in prefix and "%d" in prefix and ("%h" in prefix or "%r" in prefix)


def slow_statements_logged(value):
    try:
        return int(value) >= 0
    except ValueError:
        return False


def setting_findings(observed):
    return [
        setting_finding("GW-PG-035", observed, "ssl", lambda v: v == "on", "on"),
        setting_finding("GW-PG-036", observed, "password_encryption",
                        lambda v: v == "scram-sha-256", "scram-sha-256"),
        setting_finding("GW-PG-039", observed, "log_connections", lambda v: v == "on", "on"),
        setting_finding("GW-PG-040", observed, "log_disconnections", lambda v: v == "on",
                        "on"),
        setting_finding("GW-PG-041", observed, "log_statement", lambda v: v in DDL_LOGGING,
                        "ddl, mod or all"),
        setting_finding("GW-PG-042", observed, "log_min_duration_statement",
                        slow_statements_logged, "0 or more (milliseconds)"),
        setting_finding("GW-PG-043", observed, "log_line_prefix", prefix_names_everyone,
                        "contains %u, %d and %h or %r"),
    ]


def pgaudit_finding(observed):
    if not observed.params["expect_pgaudit"]:
        return finding("GW-PG-044", SKIPPED, reason="pgaudit not expected (expect_pgaudit)")
    return setting_finding(
        "GW-PG-044", observed, "shared_preload_libraries",
        lambda v: "pgaudit" in [item.strip().strip('"') for item in v.split(",")],
        "pgaudit listed")


def public_create_finding(observed):
    if observed.databases is None:
        return unreadable("GW-PG-037", observed, "databases", "pg_database")
    results = observed.public_create
    open_to_public = sorted(name for name, value in results.items() if value is True)
    unreadable_dbs = sorted("%s (%s)" % (name, value) for name, value in results.items()
                            if isinstance(value, str) and value != "absent")
    expected = "PUBLIC has no CREATE on schema public"
    if open_to_public:
        return finding("GW-PG-037", FAIL, observed=open_to_public, expected=expected)
    if unreadable_dbs:
        return finding("GW-PG-037", UNKNOWN, reason="could not connect to: "
                       + ", ".join(unreadable_dbs))
    return finding("GW-PG-037", PASS, observed="databases checked: %d" % len(results),
                   expected=expected)


def public_connect_finding(observed):
    if observed.databases is None:
        return unreadable("GW-PG-038", observed, "databases", "pg_database")
    ignored = set(observed.params["ignore_databases"])
    checked = [row for row in observed.databases if row["name"] not in ignored]
    open_to_public = [row["name"] for row in checked if row["public_connect"]]
    return judged("GW-PG-038", open_to_public, "databases checked: %d" % len(checked),
                  "PUBLIC has no CONNECT")


def all_findings(observed):
    found = [superuser_finding(observed), password_finding(observed),
             trust_finding(observed), hba_error_finding(observed),
             public_create_finding(observed), public_connect_finding(observed),
             pgaudit_finding(observed)] + setting_findings(observed)
    return sorted(found, key=lambda item: item["id"])


CONTROLS = ["GW-PG-%03d" % number for number in range(31, 45)]


def all_unknown(reason):
    return [finding(control_id, UNKNOWN, reason=reason) for control_id in CONTROLS]


def argument_spec():
    spec = dict(
        ignore_databases=dict(type="list", elements="str",
                              default=["template0", "template1", "postgres"]),
        allow_local_trust=dict(type="bool", default=False),
        expect_pgaudit=dict(type="bool", default=False),
    )
    spec.update(pg.connection_argument_spec())
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if pg.psycopg is None:
        module.exit_json(changed=False, databases=[], findings=all_unknown(
            "psycopg 3 is not installed on the database host (Debian: python3-psycopg)"))
    observed = Observed(module.params)
    try:
        with pg.connect(module.params) as connection:
            observed.load(connection)
    except pg.psycopg.Error as error:
        module.exit_json(changed=False, databases=[], findings=all_unknown(
            "could not connect: %s" % first_line(error)))
    module.exit_json(changed=False, findings=all_findings(observed),
                     databases=sorted(observed.public_create))


if __name__ == "__main__":
    main()
