# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connections and catalog reads shared by the PostgreSQL modules.

psycopg 3 only (Debian 12 ships 3.1.7; newer releases work the same). Every
identifier goes through psycopg's ``sql`` composition; no SQL is built by string
formatting. Statements a module plans are kept as text with secrets replaced, so that
check mode and the returned ``queries`` show exactly what a real run executes.
"""

from __future__ import annotations

import re

try:
    import psycopg
    from psycopg import sql
    from psycopg.rows import dict_row
except ImportError:  # reported by require_psycopg(), never at import time
    psycopg = None
    sql = None
    dict_row = None

SCRAM_PATTERN = re.compile(
    r"^SCRAM-SHA-256\$(?P<iterations>[0-9]+):(?P<salt>[A-Za-z0-9+/=]+)"
    r"\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$")
REDACTED = "********"


def connection_argument_spec():
    """The connection options every PostgreSQL module of the collection takes."""
    return dict(
        login_user=dict(type="str", default="postgres"),
        login_password=dict(type="str", no_log=True),
        login_host=dict(type="str", default="/var/run/postgresql"),
        login_port=dict(type="int", default=5432),
        login_db=dict(type="str", default="postgres"),
        ssl_mode=dict(type="str", default="prefer", choices=[
            "disable", "allow", "prefer", "require", "verify-ca", "verify-full"]),
        ca_cert=dict(type="path"),
        ssl_cert=dict(type="path"),
        ssl_key=dict(type="path", no_log=False),
        connect_timeout=dict(type="int", default=10),
    )


CONNECTION_DOC_OPTIONS = ("login_user", "login_password", "login_host", "login_port",
                          "login_db", "ssl_mode", "ca_cert", "ssl_cert", "ssl_key",
                          "connect_timeout")


def require_psycopg(module):
    """Fail with a clear message when the target has no psycopg 3."""
    if psycopg is None:
        module.fail_json(msg="this module needs psycopg 3 on the database host "
                             "(Debian: apt install python3-psycopg)")


def connect(params, dbname=None, autocommit=True):
    """Open a connection with the module's login options; rows come back as dicts."""
    options = dict(
        user=params["login_user"],
        host=params["login_host"],
        port=params["login_port"],
        dbname=dbname or params["login_db"],
        sslmode=params["ssl_mode"],
        connect_timeout=params["connect_timeout"],
        application_name="groundwork.erp_baseline",
    )
    for key, option in (("password", "login_password"), ("sslrootcert", "ca_cert"),
                        ("sslcert", "ssl_cert"), ("sslkey", "ssl_key")):
        if params.get(option):
            options[key] = params[option]
    return psycopg.connect(autocommit=autocommit, row_factory=dict_row, **options)


def rows(connection, query, params=None):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def quoted(connection, composed):
    """The text of a composed statement, for the ``queries`` a module returns."""
    return composed.as_string(connection)


def ident(name):
    return sql.Identifier(name)


def literal(value):
    return sql.Literal(value)


def scram_salt(verifier):
    """(iterations, salt) of a stored SCRAM-SHA-256 verifier, or None for anything else."""
    match = SCRAM_PATTERN.match(verifier or "")
    if not match:
        return None
    return int(match.group("iterations")), match.group("salt")


def is_scram_verifier(value):
    return scram_salt(value) is not None


def password_kind(stored):
    """How a stored password is kept: none, scram-sha-256, md5 or plaintext."""
    if not stored:
        return "none"
    if is_scram_verifier(stored):
        return "scram-sha-256"
    if re.match(r"^md5[0-9a-f]{32}$", stored):
        return "md5"
    return "plaintext"


ROLE_STATE_QUERY = """
SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolinherit AS inherit,
       r.rolcreaterole AS createrole, r.rolcreatedb AS createdb, r.rolcanlogin AS login,
       r.rolreplication AS replication, r.rolbypassrls AS bypassrls,
       r.rolconnlimit AS connection_limit, r.rolvaliduntil::text AS valid_until,
       r.rolpassword AS stored_password, coalesce(s.setconfig, '{}') AS settings,
       coalesce(array(SELECT g.rolname FROM pg_auth_members m
                      JOIN pg_roles g ON g.oid = m.roleid
                      WHERE m.member = r.oid ORDER BY g.rolname), '{}') AS member_of
FROM pg_authid r
LEFT JOIN pg_db_role_setting s ON s.setrole = r.oid AND s.setdatabase = 0
WHERE r.rolname = ANY(%s)
"""


def role_states(connection, names):
    """The catalog state of the named roles, in one query; absent roles are left out."""
    if not names:
        return {}
    return {row["name"]: row for row in rows(connection, ROLE_STATE_QUERY, (list(names),))}


def settings_dict(settings):
    """pg_db_role_setting's ``name=value`` array as a dict."""
    result = {}
    for item in settings or []:
        name, _, value = item.partition("=")
        result[name] = value
    return result


# Role attributes in the order PostgreSQL documents them: (option, keyword).
ATTRIBUTES = (("superuser", "SUPERUSER"), ("createdb", "CREATEDB"),
              ("createrole", "CREATEROLE"), ("inherit", "INHERIT"), ("login", "LOGIN"),
              ("replication", "REPLICATION"), ("bypassrls", "BYPASSRLS"))


def attribute_clause(wanted, current=None):
    """The WITH clause items that differ from ``current`` (all of them for a new role)."""
    items = []
    for option, keyword in ATTRIBUTES:
        if current is None or current[option] != wanted[option]:
            items.append(sql.SQL(keyword if wanted[option] else "NO" + keyword))
    limit = wanted["connection_limit"]
    if current is None or current["connection_limit"] != limit:
        items.append(sql.SQL("CONNECTION LIMIT {}").format(literal(limit)))
    return items


PASSWORD_STATE_QUERY = """
SELECT rolname AS name, rolcanlogin AS login, rolpassword AS stored_password
FROM pg_authid WHERE rolname = ANY(%s)
"""


def password_states(connection, names):
    """How each named role keeps its password, with the SCRAM salt where there is one.

    Only the salt and the iteration count leave the host: the controller derives the
    verifier of a plaintext password with them, so an unchanged password compares equal.
    """
    result = {}
    for row in rows(connection, PASSWORD_STATE_QUERY, (list(names),)):
        state = {"exists": True, "kind": password_kind(row["stored_password"])}
        salt = scram_salt(row["stored_password"])
        if salt:
            state["iterations"], state["salt"] = salt
        result[row["name"]] = state
    return result


class Plan(object):
    """The statements a module will run, in order, each on its database.

    Check mode and audit mode return the same list a real run executes. Consecutive
    steps on one database run in one transaction; a step marked ``autocommit`` (such as
    CREATE DATABASE, which PostgreSQL refuses inside a transaction) runs on its own.
    """

    def __init__(self, params):
        self.params = params
        self.steps = []

    def add(self, statement, dbname=None, shown=None, autocommit=False):
        self.steps.append(dict(statement=statement, dbname=dbname or self.params["login_db"],
                               shown=shown, autocommit=autocommit))

    def __bool__(self):
        return bool(self.steps)

    def texts(self, connection):
        return [step["shown"] or quoted(connection, step["statement"])
                for step in self.steps]

    def run(self):
        for group in self._groups():
            first = group[0]
            with connect(self.params, first["dbname"], autocommit=first["autocommit"]) as db:
                if first["autocommit"]:
                    db.execute(first["statement"])
                    continue
                with db.transaction():
                    for step in group:
                        db.execute(step["statement"])

    def _groups(self):
        groups = []
        for step in self.steps:
            last = groups[-1][-1] if groups else None
            if (last is None or step["autocommit"] or last["autocommit"]
                    or last["dbname"] != step["dbname"]):
                groups.append([step])
            else:
                groups[-1].append(step)
        return groups
