#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: postgresql_role
short_description: One PostgreSQL role, declared - attributes, password, settings, membership
version_added: 0.1.0
description:
  - Brings one role to exactly the declared attributes, connection limit, expiry, per-role
    settings and memberships, or drops it.
  - A plaintext password is turned into a SCRAM-SHA-256 verifier on the controller by the
    action plugin of the same name, with the salt and iteration count the server already
    holds, so an unchanged password is not reported as changed and the plaintext never
    reaches the database host. A ready verifier is compared as it is.
  - A password the server keeps as md5 or in plain text is reported and replaced.
  - All statements run in one transaction; check mode and audit mode return the statements
    a real run would execute and change nothing.
options:
  name:
    description: Role name, used exactly as given (quoted as an identifier).
    type: str
    required: true
  state:
    description: V(present) or V(absent).
    type: str
    choices: [present, absent]
    default: present
  mode:
    description: V(enforce) changes the role; V(audit) only reports what differs.
    type: str
    choices: [enforce, audit]
    default: enforce
  login:
    description: The role may log in.
    type: bool
    default: false
  superuser:
    description: Superuser attribute.
    type: bool
    default: false
  createdb:
    description: The role may create databases.
    type: bool
    default: false
  createrole:
    description: The role may create roles.
    type: bool
    default: false
  replication:
    description: The role may start streaming replication.
    type: bool
    default: false
  bypassrls:
    description: The role bypasses row-level security.
    type: bool
    default: false
  inherit:
    description: The role uses the privileges of the roles it is a member of.
    type: bool
    default: true
  connection_limit:
    description: Concurrent connections allowed; V(-1) for no limit.
    type: int
    default: -1
  valid_until:
    description:
      - When the password stops working, as PostgreSQL reads a timestamp, or V(infinity).
      - Left as it is when not given.
    type: str
  password:
    description:
      - A plaintext password or a SCRAM-SHA-256 verifier. The action plugin replaces a
        plaintext with its verifier before the module runs.
      - Left as it is when not given.
    type: str
  settings:
    description:
      - Per-role settings such as C(statement_timeout),
        C(idle_in_transaction_session_timeout) or C(search_path) (a list). When given,
        settings not listed are reset.
    type: dict
  member_of:
    description: Roles this role is a member of. They must exist.
    type: list
    elements: str
  membership:
    description:
      - V(exact) revokes memberships not listed in O(member_of); V(additive) only grants.
    type: str
    choices: [exact, additive]
    default: exact
  reassign_owned_to:
    description:
      - With O(state=absent), the role that takes over what the dropped role owns, in every
        database. Without it, dropping a role that owns objects fails and changes nothing.
    type: str
  password_state_only:
    description:
      - Return the stored password state of the role (kind, SCRAM salt and iterations) and
        change nothing. The action plugin uses it; playbooks do not need it.
    type: bool
    default: false
  login_user:
    description: Role to connect as.
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
  - Setting values are compared as PostgreSQL stores them; give them in the form the server
    shows (C(30s), not C(30000ms)) or the role is reported changed on every run.
  - The verifier is computed with the iteration count the server already holds, or 4096
    (PostgreSQL 15's fixed count) for a new password.
  - Dropping a role with O(reassign_owned_to) reassigns and drops what it owns in every
    database; those steps run per database and cannot be undone together.
requirements:
  - psycopg 3 on the database host
  - scramp on the controller
author:
  - groundwork platform team
"""

EXAMPLES = r"""
- name: Reporting role with a statement timeout
  groundwork.erp_baseline.postgresql_role:
    name: reporting
    login: true
    password: "{{ vault_reporting_password }}"
    connection_limit: 5
    settings:
      statement_timeout: 60s
      search_path: [reporting, public]
    member_of: [pg_read_all_stats]
  become: true
  become_user: postgres

- name: Retire a contractor's role, handing its objects to the owner role
  groundwork.erp_baseline.postgresql_role:
    name: contractor_jdoe
    state: absent
    reassign_owned_to: tenant_a_owner
  become: true
  become_user: postgres
"""

RETURN = r"""
queries:
  description: Statements executed, or to be executed in check and audit mode; secrets hidden.
  returned: always
  type: list
  elements: str
password_stored_as:
  description: How the server kept the password before this run.
  returned: when the role existed
  type: str
  sample: md5
password_state:
  description: Stored password state, with O(password_state_only).
  returned: with O(password_state_only)
  type: dict
"""


from ansible.module_utils.basic import AnsibleModule

from ansible_collections.groundwork.erp_baseline.plugins.module_utils import postgres as pg

def setting_value(value):
    """A setting's value as SQL: a list becomes a list of identifiers (search_path)."""
    if isinstance(value, list):
        return pg.sql.SQL(", ").join(pg.ident(str(item)) for item in value)
    return pg.literal(str(value))


def stored_setting_matches(stored, wanted):
    if stored is None:
        return False
    if isinstance(wanted, list):
        items = [item.strip().strip('"') for item in stored.split(",")]
        return items == [str(item) for item in wanted]
    return stored == str(wanted)


class RoleReconciler(object):

    def __init__(self, module, connection):
        self.module = module
        self.params = module.params
        self.connection = connection
        self.plan = pg.Plan(self.params)
        self.name = pg.ident(self.params["name"])

    def plan_present(self, current):
        params = self.params
        if current is None:
            self.add_create()
        else:
            items = pg.attribute_clause(params, current)
            if items:
                self.plan.add(pg.sql.SQL("ALTER ROLE {} WITH {}").format(
                    self.name, pg.sql.SQL(" ").join(items)))
            self.plan_password(current)
        self.plan_valid_until(current)
        if params["settings"] is not None:
            self.plan_settings(pg.settings_dict(current["settings"]) if current else {})
        if params["member_of"] is not None:
            self.plan_membership(current["member_of"] if current else [])

    def add_create(self):
        items = pg.attribute_clause(self.params)
        statement = pg.sql.SQL("CREATE ROLE {} WITH {}").format(
            self.name, pg.sql.SQL(" ").join(items))
        shown = pg.quoted(self.connection, statement)
        if self.params["password"]:
            statement += pg.sql.SQL(" PASSWORD {}").format(pg.literal(self.params["password"]))
            shown += " PASSWORD " + pg.REDACTED
        self.plan.add(statement, shown=shown)

    def plan_password(self, current):
        wanted = self.params["password"]
        if wanted is None or current["stored_password"] == wanted:
            return
        statement = pg.sql.SQL("ALTER ROLE {} WITH PASSWORD {}").format(
            self.name, pg.literal(wanted))
        self.plan.add(statement, shown="ALTER ROLE %s WITH PASSWORD %s" % (
            pg.quoted(self.connection, self.name), pg.REDACTED))

    def plan_valid_until(self, current):
        wanted = self.params["valid_until"]
        if wanted is None:
            return
        normalised = pg.rows(self.connection, "SELECT %s::timestamptz::text AS value",
                             (wanted,))[0]["value"]
        if current is not None and current["valid_until"] == normalised:
            return
        self.plan.add(pg.sql.SQL("ALTER ROLE {} VALID UNTIL {}").format(
            self.name, pg.literal(wanted)))

    def plan_settings(self, stored):
        wanted = self.params["settings"]
        for setting in sorted(wanted):
            if not stored_setting_matches(stored.get(setting), wanted[setting]):
                self.plan.add(pg.sql.SQL("ALTER ROLE {} SET {} = {}").format(
                    self.name, pg.ident(setting), setting_value(wanted[setting])))
        for setting in sorted(set(stored) - set(wanted)):
            self.plan.add(pg.sql.SQL("ALTER ROLE {} RESET {}").format(
                self.name, pg.ident(setting)))

    def plan_membership(self, current_groups):
        wanted = self.params["member_of"]
        missing = sorted(set(wanted) - set(pg.role_states(self.connection, wanted)))
        if missing:
            self.module.fail_json(msg="member_of: these roles do not exist: %s"
                                      % ", ".join(missing))
        for group in sorted(set(wanted) - set(current_groups)):
            self.plan.add(pg.sql.SQL("GRANT {} TO {}").format(pg.ident(group), self.name))
        if self.params["membership"] == "exact":
            for group in sorted(set(current_groups) - set(wanted)):
                self.plan.add(pg.sql.SQL("REVOKE {} FROM {}").format(pg.ident(group),
                                                                    self.name))

    def plan_absent(self):
        target = self.params["reassign_owned_to"]
        databases = self.dependent_databases()
        if databases["owner"] and not target:
            self.module.fail_json(msg=(
                "role %s owns objects in %s: give reassign_owned_to to hand them to another "
                "role before it is dropped; nothing was changed"
                % (self.params["name"], ", ".join(databases["owner"]))))
        if target and not pg.role_states(self.connection, [target]):
            self.module.fail_json(msg="reassign_owned_to: role %s does not exist" % target)
        for dbname in databases["any"]:
            if target:
                self.plan.add(pg.sql.SQL("REASSIGN OWNED BY {} TO {}").format(
                    self.name, pg.ident(target)), dbname=dbname)
            # Only privileges are left now; DROP OWNED revokes them in this database.
            self.plan.add(pg.sql.SQL("DROP OWNED BY {}").format(self.name), dbname=dbname)
        self.plan.add(pg.sql.SQL("DROP ROLE {}").format(self.name))

    def dependent_databases(self):
        """Databases holding objects the role owns, or privileges granted to it."""
        found = pg.rows(self.connection, """
            SELECT DISTINCT coalesce(d.datname, current_database()) AS dbname,
                   s.deptype = 'o' AS owns
            FROM pg_shdepend s LEFT JOIN pg_database d ON d.oid = s.dbid
            WHERE s.refobjid = (SELECT oid FROM pg_roles WHERE rolname = %s)
              AND s.refclassid = 'pg_authid'::regclass""", (self.params["name"],))
        return {"owner": sorted({row["dbname"] for row in found if row["owns"]}),
                "any": sorted({row["dbname"] for row in found})}


def diff_view(current, params):
    """Attributes before and after, without any password."""
    shown = [option for option, _keyword in pg.ATTRIBUTES] + ["connection_limit"]
    before = {key: current[key] for key in shown} if current else {}
    after = {key: params[key] for key in shown} if params["state"] == "present" else {}
    return {"before": before, "after": after}


def argument_spec():
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        mode=dict(type="str", default="enforce", choices=["enforce", "audit"]),
        connection_limit=dict(type="int", default=-1),
        valid_until=dict(type="str"),
        password=dict(type="str", no_log=True),
        settings=dict(type="dict"),
        member_of=dict(type="list", elements="str"),
        membership=dict(type="str", default="exact", choices=["exact", "additive"]),
        reassign_owned_to=dict(type="str"),
        password_state_only=dict(type="bool", default=False, no_log=False),
    )
    for option, _keyword in pg.ATTRIBUTES:
        spec[option] = dict(type="bool", default=option == "inherit")
    spec.update(pg.connection_argument_spec())
    return spec


def check_arguments(module):
    params = module.params
    if not params["name"] or len(params["name"].encode("utf-8")) > 63:
        module.fail_json(msg="name must have 1 to 63 bytes (PostgreSQL's identifier limit)")
    if params["password"] is not None and not pg.is_scram_verifier(params["password"]):
        module.fail_json(msg="password reached the host unconverted: call the module through "
                             "its action plugin (groundwork.erp_baseline.postgresql_role) or "
                             "give a SCRAM-SHA-256 verifier")
    if params["connection_limit"] < -1:
        module.fail_json(msg="connection_limit must be -1 (no limit) or more")
    for setting in params["settings"] or {}:
        if not setting.replace("_", "").replace(".", "").isalnum():
            module.fail_json(msg="settings: %r is not a setting name" % setting)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    check_arguments(module)
    pg.require_psycopg(module)
    params = module.params
    dry_run = module.check_mode or params["mode"] == "audit"
    try:
        with pg.connect(params) as connection:
            if params["password_state_only"]:
                module.exit_json(changed=False, password_state=pg.password_states(
                    connection, [params["name"]]).get(params["name"], {"exists": False}))
            current = pg.role_states(connection, [params["name"]]).get(params["name"])
            reconciler = RoleReconciler(module, connection)
            if params["state"] == "present":
                reconciler.plan_present(current)
            elif current is not None:
                reconciler.plan_absent()
            queries = reconciler.plan.texts(connection)
        if reconciler.plan and not dry_run:
            reconciler.plan.run()
    except pg.psycopg.Error as error:
        module.fail_json(msg="PostgreSQL: %s" % str(error).strip())
    result = dict(changed=bool(queries) and params["mode"] != "audit", queries=queries)
    if current is not None:
        result["password_stored_as"] = pg.password_kind(current["stored_password"])
        if result["password_stored_as"] in ("md5", "plaintext"):
            module.warn("role %s had its password stored as %s%s" % (
                params["name"], result["password_stored_as"],
                "; replaced by a SCRAM-SHA-256 verifier" if params["password"] else
                "; give password to replace it with a SCRAM-SHA-256 verifier"))
    if module._diff:
        result["diff"] = diff_view(current, params)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
