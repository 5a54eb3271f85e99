#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: postgresql_tenant
short_description: Every tenant's database and least-privilege roles, reconciled in one call
version_added: 0.1.0
description:
  - For each tenant C(NAME) the module keeps a database C(NAME) (UTF8, from template0)
    owned by the NOLOGIN role C(NAME_owner), and three login roles, C(NAME_app) (data
    changes), C(NAME_ro) (reads) and C(NAME_migrate) (creates and owns the schema objects).
  - The database grants nothing to PUBLIC, CONNECT only to the three login roles. Schema
    C(public) grants nothing to PUBLIC, USAGE to the three roles and CREATE only to the
    migration role. Default privileges of the migration role give the application role
    DML on future tables and USAGE and SELECT on future sequences, and the read-only role
    SELECT; existing tables and sequences are brought to the same grants, and the
    read-only role loses any write privilege it was given.
  - Shared catalogs (roles, databases) are read in a few queries on one connection; each
    existing tenant database is read with one query on its own connection.
  - Only privileges that differ are granted or revoked, so a re-run plans no statement,
    and check mode returns exactly the statements a real run executes.
options:
  tenants:
    description:
      - The tenants, usually all of C(erp_baseline_tenants). The action plugin passes on
        only the keys below; what other tiers read from a tenant (domains, Odoo settings)
        does not reach the module.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Tenant name, C(^[a-z][a-z0-9_]{0,29}$).
        type: str
        required: true
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
      database:
        description: The tenant's database settings.
        type: dict
        default: {}
        suboptions:
          connection_limit:
            description: Connections allowed to the application role.
            type: int
            default: 20
          ro_connection_limit:
            description: Connections allowed to the read-only role.
            type: int
            default: 5
          migrate_connection_limit:
            description: Connections allowed to the migration role.
            type: int
            default: 3
      destroy_data:
        description:
          - With O(tenants[].state=absent), confirms that the tenant's database and all its
            data are to be dropped. Without it an absent tenant is an error.
        type: bool
        default: false
  passwords:
    description:
      - SCRAM-SHA-256 verifiers by role name, set by the action plugin from the tenant
        secrets. A login role not listed keeps the password it has.
    type: dict
    default: {}
  password_state_only:
    description:
      - Return the stored password state of every tenant login role and change nothing.
        The action plugin uses it; playbooks do not need it.
    type: bool
    default: false
  mode:
    description: V(enforce) changes the server; V(audit) only reports.
    type: str
    choices: [enforce, audit]
    default: enforce
  login_db:
    description: Database for the shared catalogs.
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
  - Only schema C(public) is managed. Objects in other schemas keep their grants.
  - Grants to roles other than PUBLIC and the tenant's own roles are left as they are.
  - Odoo creates tables when modules are installed or upgraded; run those upgrades with the
    migration role, so that the new tables follow the default privileges.
  - A database whose encoding is not UTF8 is reported, not recreated.
requirements:
  - psycopg 3 on the database host
author:
  - groundwork platform team
"""

EXAMPLES = r"""
- name: Tenant databases and roles
  groundwork.erp_baseline.postgresql_tenant:
    tenants:
      - {name: tenant_a, database: {connection_limit: 40}}
      - {name: tenant_b}
      - {name: tenant_old, state: absent, destroy_data: true}
  become: true
  become_user: postgres
"""

RETURN = r"""
queries:
  description: Statements executed, or to be executed in check and audit mode; no secrets.
  returned: always
  type: list
  elements: str
findings:
  description: One finding per control, naming the tenants that differed.
  returned: always
  type: list
  elements: dict
password_state:
  description: Stored password state by role name, with O(password_state_only).
  returned: with O(password_state_only)
  type: dict
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.groundwork.erp_baseline.plugins.module_utils import postgres as pg
from ansible_collections.groundwork.erp_baseline.plugins.module_utils.findings import settled

TENANT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
DATABASE_CONTROL = "GW-PG-010"
DATABASE_ACCESS_CONTROL = "GW-PG-011"
SCHEMA_CONTROL = "GW-PG-012"
ROLE_CONTROL = "GW-PG-013"
OBJECT_CONTROL = "GW-PG-014"
CONTROLS = (DATABASE_CONTROL, DATABASE_ACCESS_CONTROL, SCHEMA_CONTROL, ROLE_CONTROL,
            OBJECT_CONTROL)

TABLE_WRITE = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")
APP_TABLE = ("SELECT", "INSERT", "UPDATE", "DELETE")
APP_SEQUENCE = ("USAGE", "SELECT")
READ = ("SELECT",)

DATABASE_QUERY = """
SELECT d.datname AS name, pg_get_userbyid(d.datdba) AS owner,
       pg_encoding_to_char(d.encoding) AS encoding,
       array(SELECT CASE WHEN a.grantee = 0 THEN '' ELSE pg_get_userbyid(a.grantee) END
                    || ':' || a.privilege_type
             FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a) AS privileges
FROM pg_database d WHERE d.datname = ANY(%s)
"""

# One query per tenant database: the public schema's grants, the migration role's
# default privileges there, and how many tables and sequences lack the tenant's grants.
SCHEMA_QUERY = """
WITH objects AS (
  SELECT c.relkind, array(
           SELECT CASE WHEN a.grantee = 0 THEN '' ELSE pg_get_userbyid(a.grantee) END
                  || ':' || a.privilege_type
           FROM aclexplode(coalesce(c.relacl, acldefault(
                  (CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner))) a)
         AS acl
  FROM pg_class c
  WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
)
SELECT
  array(SELECT CASE WHEN a.grantee = 0 THEN '' ELSE pg_get_userbyid(a.grantee) END
               || ':' || a.privilege_type
        FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
        WHERE n.nspname = 'public') AS schema_privileges,
  array(SELECT d.defaclobjtype::text || ':' || pg_get_userbyid(a.grantee) || ':'
               || a.privilege_type
        FROM pg_default_acl d, aclexplode(d.defaclacl) a
        WHERE d.defaclnamespace = 'public'::regnamespace
          AND d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = %(migrate)s))
    AS default_privileges,
  (SELECT count(*) FROM objects WHERE relkind <> 'S'
     AND NOT acl @> %(app_table)s::text[]) AS tables_missing_app,
  (SELECT count(*) FROM objects WHERE relkind <> 'S'
     AND NOT acl @> %(ro_table)s::text[]) AS tables_missing_ro,
  (SELECT count(*) FROM objects WHERE relkind <> 'S'
     AND acl && %(ro_write)s::text[]) AS tables_writable_by_ro,
  (SELECT count(*) FROM objects WHERE relkind = 'S'
     AND NOT acl @> %(app_sequence)s::text[]) AS sequences_missing_app,
  (SELECT count(*) FROM objects WHERE relkind = 'S'
     AND NOT acl @> %(ro_sequence)s::text[]) AS sequences_missing_ro
"""


def role_names(tenant):
    name = tenant["name"]
    return dict(owner=name + "_owner", app=name + "_app", ro=name + "_ro",
                migrate=name + "_migrate")


def login_roles(tenant):
    names = role_names(tenant)
    return [names["app"], names["ro"], names["migrate"]]


def wanted_roles(tenant):
    """(name, attributes) of the tenant's roles, owner first."""
    names = role_names(tenant)
    plain = {option: option == "inherit" for option, _keyword in pg.ATTRIBUTES}
    limits = tenant["database"]
    return [
        (names["owner"], dict(plain, connection_limit=-1)),
        (names["app"], dict(plain, login=True, connection_limit=limits["connection_limit"])),
        (names["ro"], dict(plain, login=True, connection_limit=limits["ro_connection_limit"])),
        (names["migrate"], dict(plain, login=True,
                                connection_limit=limits["migrate_connection_limit"])),
    ]


def entries(role, privileges):
    return ["%s:%s" % (role, privilege) for privilege in privileges]


def fresh_schema_state(server_version):
    """What a database just created from template0 holds, for check mode."""
    public = ["pg_database_owner:USAGE", "pg_database_owner:CREATE", ":USAGE"]
    if server_version < 150000:
        public.append(":CREATE")  # before 15, PUBLIC could create in schema public
    return dict(schema_privileges=public, default_privileges=[], tables_missing_app=0,
                tables_missing_ro=0, tables_writable_by_ro=0, sequences_missing_app=0,
                sequences_missing_ro=0)


class TenantReconciler(object):

    def __init__(self, module, connection):
        self.module = module
        self.params = module.params
        self.connection = connection
        self.plan = pg.Plan(self.params)
        self.controls = {control: [] for control in CONTROLS}
        self.tenants = self.params["tenants"]
        self.roles = pg.role_states(connection, [name for tenant in self.tenants
                                                 for name, _ in wanted_roles(tenant)])
        self.databases = {row["name"]: row for row in pg.rows(
            connection, DATABASE_QUERY, ([tenant["name"] for tenant in self.tenants],))}
        self.server_version = connection.info.server_version

    def step(self, control, tenant, statement, **options):
        self.plan.add(statement, **options)
        if tenant["name"] not in self.controls[control]:
            self.controls[control].append(tenant["name"])

    # Shared catalogs: roles and databases.

    def plan_roles(self, tenant):
        passwords = self.params["passwords"]
        for name, wanted in wanted_roles(tenant):
            current = self.roles.get(name)
            items = pg.attribute_clause(wanted, current)
            verb = "CREATE" if current is None else "ALTER"
            if items:
                self.step(ROLE_CONTROL, tenant, pg.sql.SQL(verb + " ROLE {} WITH {}").format(
                    pg.ident(name), pg.sql.SQL(" ").join(items)))
            password = passwords.get(name)
            if password and (current is None or current["stored_password"] != password):
                statement = pg.sql.SQL("ALTER ROLE {} WITH PASSWORD {}").format(
                    pg.ident(name), pg.literal(password))
                self.step(ROLE_CONTROL, tenant, statement, shown="ALTER ROLE %s WITH PASSWORD %s"
                          % (pg.quoted(self.connection, pg.ident(name)), pg.REDACTED))
            elif current is not None and current["login"] and current["stored_password"] \
                    and not pg.is_scram_verifier(current["stored_password"]):
                self.module.warn("role %s keeps a %s password: give its secret to replace it "
                                 "with a SCRAM-SHA-256 verifier" % (name, pg.password_kind(
                                     current["stored_password"])))

    def plan_database(self, tenant):
        names = role_names(tenant)
        database = self.databases.get(tenant["name"])
        dbname = pg.ident(tenant["name"])
        if database is None:
            self.step(DATABASE_CONTROL, tenant, pg.sql.SQL(
                "CREATE DATABASE {} WITH OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(
                    dbname, pg.ident(names["owner"])), autocommit=True)
            privileges = ["%s:%s" % (names["owner"], kind)
                          for kind in ("CREATE", "TEMPORARY", "CONNECT")]
            privileges += [":TEMPORARY", ":CONNECT"]
        else:
            if database["owner"] != names["owner"]:
                self.step(DATABASE_CONTROL, tenant, pg.sql.SQL(
                    "ALTER DATABASE {} OWNER TO {}").format(dbname, pg.ident(names["owner"])))
            if database["encoding"] != "UTF8":
                self.module.warn("database %s has encoding %s, not UTF8; it is not recreated"
                                 % (tenant["name"], database["encoding"]))
                self.controls[DATABASE_CONTROL].append(tenant["name"])
            privileges = database["privileges"]
        public_held = [entry.split(":", 1)[1] for entry in privileges if entry.startswith(":")]
        if public_held:
            self.step(DATABASE_ACCESS_CONTROL, tenant, pg.sql.SQL(
                "REVOKE {} ON DATABASE {} FROM PUBLIC").format(
                    pg.sql.SQL(", ").join(pg.sql.SQL(kind) for kind in sorted(public_held)),
                    dbname))
        lacking = [role for role in login_roles(tenant) if role + ":CONNECT" not in privileges]
        if lacking:
            self.step(DATABASE_ACCESS_CONTROL, tenant, pg.sql.SQL(
                "GRANT CONNECT ON DATABASE {} TO {}").format(
                    dbname, pg.sql.SQL(", ").join(pg.ident(role) for role in lacking)))

    # Inside each tenant database: schema public, default privileges, existing objects.

    def read_schema_state(self, tenant):
        names = role_names(tenant)
        with pg.connect(self.params, tenant["name"]) as connection:
            return pg.rows(connection, SCHEMA_QUERY, dict(
                migrate=names["migrate"],
                app_table=entries(names["app"], APP_TABLE),
                ro_table=entries(names["ro"], READ),
                ro_write=entries(names["ro"], TABLE_WRITE),
                app_sequence=entries(names["app"], APP_SEQUENCE),
                ro_sequence=entries(names["ro"], READ)))[0]

    def plan_schema(self, tenant, state):
        names = role_names(tenant)
        on_db = dict(dbname=tenant["name"])
        held = state["schema_privileges"]
        public_held = sorted(entry[1:] for entry in held if entry.startswith(":"))
        if public_held:
            self.step(SCHEMA_CONTROL, tenant, pg.sql.SQL(
                "REVOKE {} ON SCHEMA public FROM PUBLIC").format(
                    pg.sql.SQL(", ").join(pg.sql.SQL(kind) for kind in public_held)), **on_db)
        for role, kinds in ((names["app"], ["USAGE"]), (names["ro"], ["USAGE"]),
                            (names["migrate"], ["CREATE", "USAGE"])):
            lacking = [kind for kind in kinds if "%s:%s" % (role, kind) not in held]
            if lacking:
                self.step(SCHEMA_CONTROL, tenant, pg.sql.SQL(
                    "GRANT {} ON SCHEMA public TO {}").format(
                        pg.sql.SQL(", ").join(pg.sql.SQL(kind) for kind in lacking),
                        pg.ident(role)), **on_db)
        for role in (names["app"], names["ro"]):
            if "%s:CREATE" % role in held:
                self.step(SCHEMA_CONTROL, tenant, pg.sql.SQL(
                    "REVOKE CREATE ON SCHEMA public FROM {}").format(pg.ident(role)), **on_db)
        self.plan_default_privileges(tenant, state["default_privileges"])
        self.plan_existing_objects(tenant, state)

    def plan_default_privileges(self, tenant, current):
        names = role_names(tenant)
        prefix = pg.sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public ").format(
            pg.ident(names["migrate"]))
        wanted = (("r", "TABLES", names["app"], APP_TABLE), ("r", "TABLES", names["ro"], READ),
                  ("S", "SEQUENCES", names["app"], APP_SEQUENCE),
                  ("S", "SEQUENCES", names["ro"], READ))
        for objtype, objects, role, kinds in wanted:
            lacking = [kind for kind in kinds
                       if "%s:%s:%s" % (objtype, role, kind) not in current]
            if lacking:
                self.step(OBJECT_CONTROL, tenant, prefix + pg.sql.SQL(
                    "GRANT {} ON {} TO {}").format(
                        pg.sql.SQL(", ").join(pg.sql.SQL(kind) for kind in lacking),
                        pg.sql.SQL(objects), pg.ident(role)), dbname=tenant["name"])
        extra = [kind for kind in TABLE_WRITE if "r:%s:%s" % (names["ro"], kind) in current]
        if extra:
            self.step(OBJECT_CONTROL, tenant, prefix + pg.sql.SQL(
                "REVOKE {} ON TABLES FROM {}").format(
                    pg.sql.SQL(", ").join(pg.sql.SQL(kind) for kind in extra),
                    pg.ident(names["ro"])), dbname=tenant["name"])

    def plan_existing_objects(self, tenant, state):
        names = role_names(tenant)
        grants = (("tables_missing_app", "GRANT {} ON ALL TABLES IN SCHEMA public TO {}",
                   APP_TABLE, names["app"]),
                  ("tables_missing_ro", "GRANT {} ON ALL TABLES IN SCHEMA public TO {}",
                   READ, names["ro"]),
                  ("tables_writable_by_ro",
                   "REVOKE {} ON ALL TABLES IN SCHEMA public FROM {}", TABLE_WRITE, names["ro"]),
                  ("sequences_missing_app",
                   "GRANT {} ON ALL SEQUENCES IN SCHEMA public TO {}", APP_SEQUENCE, names["app"]),
                  ("sequences_missing_ro",
                   "GRANT {} ON ALL SEQUENCES IN SCHEMA public TO {}", READ, names["ro"]))
        for count, template, kinds, role in grants:
            if state[count]:
                self.step(OBJECT_CONTROL, tenant, pg.sql.SQL(template).format(
                    pg.sql.SQL(", ").join(pg.sql.SQL(kind) for kind in kinds),
                    pg.ident(role)), dbname=tenant["name"])

    def plan_absent(self, tenant):
        if tenant["name"] in self.databases:
            self.step(DATABASE_CONTROL, tenant, pg.sql.SQL("DROP DATABASE {} WITH (FORCE)").format(
                pg.ident(tenant["name"])), autocommit=True)
        for name, _wanted in reversed(wanted_roles(tenant)):
            if name in self.roles:
                self.step(ROLE_CONTROL, tenant, pg.sql.SQL("DROP ROLE {}").format(pg.ident(name)))

    def findings(self, audit):
        result = []
        for control in CONTROLS:
            differing = self.controls[control]
            result.append(settled(
                control, not differing, audit,
                observed=("differed: %s" % ", ".join(differing)) if differing
                else "%d tenants" % len(self.tenants)))
        return result


def check_tenants(module):
    seen = set()
    for index, tenant in enumerate(module.params["tenants"]):
        label = "tenants[%d]" % index
        if not TENANT_NAME.match(tenant["name"]):
            module.fail_json(msg="%s: name %r must match ^[a-z][a-z0-9_]{0,29}$; nothing was "
                                 "changed" % (label, tenant["name"]))
        if tenant["name"] in seen:
            module.fail_json(msg="%s: tenant %s is listed twice" % (label, tenant["name"]))
        seen.add(tenant["name"])
        if tenant["state"] == "absent" and not tenant["destroy_data"]:
            module.fail_json(msg=(
                "%s: tenant %s is absent, which drops its database and every row in it; set "
                "destroy_data: true on the tenant to confirm; nothing was changed"
                % (label, tenant["name"])))
        for limit in ("connection_limit", "ro_connection_limit", "migrate_connection_limit"):
            if tenant["database"][limit] < 1:
                module.fail_json(msg="%s: database.%s must be 1 or more" % (label, limit))
    for role, verifier in module.params["passwords"].items():
        if not pg.is_scram_verifier(verifier):
            module.fail_json(msg="passwords: the value for %s is not a SCRAM-SHA-256 "
                                 "verifier; call the module through its action plugin" % role)


def reconcile(module, connection, dry_run):
    reconciler = TenantReconciler(module, connection)
    present = [tenant for tenant in reconciler.tenants if tenant["state"] == "present"]
    for tenant in present:
        reconciler.plan_roles(tenant)
    for tenant in present:
        reconciler.plan_database(tenant)
    for tenant in present:
        if tenant["name"] in reconciler.databases:
            reconciler.plan_schema(tenant, reconciler.read_schema_state(tenant))
    for tenant in reconciler.tenants:
        if tenant["state"] == "absent":
            reconciler.plan_absent(tenant)
    queries = reconciler.plan.texts(connection)
    if not dry_run and reconciler.plan:
        reconciler.plan.run()
    # New databases are read once they exist; check mode assumes template0's grants.
    created = pg.Plan(module.params)
    reconciler.plan = created
    for tenant in present:
        if tenant["name"] not in reconciler.databases:
            state = (fresh_schema_state(reconciler.server_version) if dry_run
                     else reconciler.read_schema_state(tenant))
            reconciler.plan_schema(tenant, state)
    queries += created.texts(connection)
    if not dry_run and created:
        created.run()
    return queries, reconciler.findings(module.params["mode"] == "audit")


def main():
    spec = dict(
        tenants=dict(type="list", elements="dict", required=True, options=dict(
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            database=dict(type="dict", default={}, apply_defaults=True, options=dict(
                connection_limit=dict(type="int", default=20),
                ro_connection_limit=dict(type="int", default=5),
                migrate_connection_limit=dict(type="int", default=3),
            )),
            destroy_data=dict(type="bool", default=False),
        )),
        passwords=dict(type="dict", default={}, no_log=True),
        password_state_only=dict(type="bool", default=False, no_log=False),
        mode=dict(type="str", default="enforce", choices=["enforce", "audit"]),
    )
    spec.update(pg.connection_argument_spec())
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    check_tenants(module)
    pg.require_psycopg(module)
    params = module.params
    dry_run = module.check_mode or params["mode"] == "audit"
    try:
        with pg.connect(params) as connection:
            if params["password_state_only"]:
                names = [role for tenant in params["tenants"] for role in login_roles(tenant)]
                module.exit_json(changed=False,
                                 password_state=pg.password_states(connection, names))
            queries, findings = reconcile(module, connection, dry_run)
    except pg.psycopg.Error as error:
        module.fail_json(msg="PostgreSQL: %s" % str(error).strip())
    module.exit_json(changed=bool(queries) and params["mode"] != "audit", queries=queries,
                     findings=findings)


if __name__ == "__main__":
    main()
