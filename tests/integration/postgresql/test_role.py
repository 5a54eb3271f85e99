# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""postgresql_role against the session's real PostgreSQL 15."""

from __future__ import annotations

import itertools

import psycopg
import pytest
from ansible_collections.groundwork.erp_baseline.plugins.plugin_utils import scram

NAMES = itertools.count()


@pytest.fixture
def role_name(postgres):
    name = "gw_role_%d" % next(NAMES)
    yield name
    postgres.execute("DROP OWNED BY %s CASCADE; DROP ROLE IF EXISTS %s" % (name, name)
                     if postgres.query("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
                     else "SELECT 1")


def stored(postgres, name):
    found = postgres.query(
        "SELECT a.rolcanlogin, a.rolcreatedb, a.rolconnlimit, a.rolpassword, r.rolconfig "
        "FROM pg_authid a JOIN pg_roles r USING (oid) WHERE a.rolname = %s", (name,))
    return found[0] if found else None


def test_a_new_role_is_created_exactly_and_the_rerun_changes_nothing(postgres, module,
                                                                     role_name):
    verifier = scram.verifier("Correct-Horse-9")
    args = postgres.login(name=role_name, login=True, createdb=True, connection_limit=7,
                          password=verifier, valid_until="2030-01-01",
                          settings={"statement_timeout": "30s",
                                    "search_path": ["$user", "public"]})
    first = module("postgresql_role", args)
    assert first["changed"] and not first.get("failed"), first
    login, createdb, limit, password, config = stored(postgres, role_name)
    assert (login, createdb, limit, password) == (True, True, 7, verifier)
    assert sorted(config) == ['search_path="$user", public', "statement_timeout=30s"]
    second = module("postgresql_role", args)
    assert second["changed"] is False and second["queries"] == [], second


def test_the_role_logs_in_over_tls_with_the_verifier_the_controller_made(postgres, module,
                                                                         role_name):
    module("postgresql_role", postgres.login(
        name=role_name, login=True, password=scram.verifier("Correct-Horse-9")))
    postgres.execute("GRANT CONNECT ON DATABASE postgres TO %s" % role_name)
    with psycopg.connect(host="127.0.0.1", port=postgres.port, dbname="postgres",
                         user=role_name, password="Correct-Horse-9",
                         sslmode="require") as connection:
        assert connection.execute("SELECT ssl FROM pg_stat_ssl "
                                  "WHERE pid = pg_backend_pid()").fetchone() == (True,)


def test_check_mode_predicts_the_statements_and_changes_nothing(postgres, module, role_name):
    args = postgres.login(name=role_name, login=True)
    predicted = module("postgresql_role", args, check=True)
    assert predicted["changed"] and stored(postgres, role_name) is None
    real = module("postgresql_role", args)
    assert real["queries"] == predicted["queries"]


def test_audit_mode_reports_the_difference_without_changing(postgres, module, role_name):
    postgres.execute("CREATE ROLE %s LOGIN" % role_name)
    result = module("postgresql_role", postgres.login(name=role_name, login=False,
                                                     mode="audit"))
    assert result["changed"] is False
    assert result["queries"] == ['ALTER ROLE "%s" WITH NOLOGIN' % role_name]
    assert stored(postgres, role_name)[0] is True


def test_a_plaintext_password_derived_with_the_stored_salt_is_unchanged(postgres, module,
                                                                        role_name):
    """What the action plugin does: read the salt, derive, compare."""
    module("postgresql_role", postgres.login(name=role_name, login=True,
                                             password=scram.verifier("first-secret")))
    state = module("postgresql_role", postgres.login(
        name=role_name, password_state_only=True))["password_state"]
    assert state["kind"] == "scram-sha-256" and state["iterations"] == 4096
    same = scram.password_verifier("first-secret", state)
    assert module("postgresql_role", postgres.login(
        name=role_name, login=True, password=same))["changed"] is False
    rotated = scram.password_verifier("second-secret", state)
    result = module("postgresql_role", postgres.login(
        name=role_name, login=True, password=rotated), diff=True)
    assert result["changed"] and stored(postgres, role_name)[3] == rotated
    assert "second-secret" not in result["_raw"] and rotated not in result["_raw"]


def test_an_md5_password_is_reported_and_replaced(postgres, module, role_name):
    with postgres.connect() as connection:
        connection.execute("SET password_encryption = 'md5'")
        connection.execute("CREATE ROLE %s LOGIN PASSWORD 'old-md5-secret'" % role_name)
    verifier = scram.verifier("new-secret")
    result = module("postgresql_role", postgres.login(name=role_name, login=True,
                                                     password=verifier))
    assert result["password_stored_as"] == "md5"
    assert "stored as md5" in str(result.get("warnings")), result
    assert stored(postgres, role_name)[3] == verifier


def test_membership_exact_revokes_and_additive_keeps(postgres, module, role_name):
    postgres.execute("CREATE ROLE gw_group_a; CREATE ROLE gw_group_b")
    try:
        module("postgresql_role", postgres.login(name=role_name,
                                                 member_of=["gw_group_a", "gw_group_b"]))
        additive = module("postgresql_role", postgres.login(
            name=role_name, member_of=["gw_group_a"], membership="additive"))
        assert additive["changed"] is False
        exact = module("postgresql_role", postgres.login(name=role_name,
                                                         member_of=["gw_group_a"]))
        assert exact["queries"] == ['REVOKE "gw_group_b" FROM "%s"' % role_name]
        groups = postgres.query(
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s", (role_name,))
        assert groups == [("gw_group_a",)]
    finally:
        postgres.execute("DROP ROLE IF EXISTS gw_group_a; DROP ROLE IF EXISTS gw_group_b")


def test_a_setting_no_longer_declared_is_reset(postgres, module, role_name):
    module("postgresql_role", postgres.login(name=role_name,
                                             settings={"statement_timeout": "30s",
                                                       "work_mem": "8MB"}))
    result = module("postgresql_role", postgres.login(name=role_name,
                                                     settings={"statement_timeout": "30s"}))
    assert result["queries"] == ['ALTER ROLE "%s" RESET "work_mem"' % role_name]
    assert stored(postgres, role_name)[4] == ["statement_timeout=30s"]


def test_a_name_with_quotes_and_semicolons_is_created_exactly_as_named(postgres, module):
    name = 'gw_evil"; DROP TABLE x; --'
    try:
        result = module("postgresql_role", postgres.login(name=name))
        assert result["changed"] and stored(postgres, name) is not None
        assert postgres.query("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'gw_evil%%'"
                              ) == [(1,)]
    finally:
        postgres.execute('DROP ROLE IF EXISTS "gw_evil""; DROP TABLE x; --"')


def test_dropping_a_role_that_owns_objects_needs_a_target(postgres, module, role_name):
    postgres.execute("CREATE ROLE %s; CREATE ROLE gw_heir; "
                     "CREATE TABLE gw_owned_table (id int); "
                     "ALTER TABLE gw_owned_table OWNER TO %s" % (role_name, role_name))
    try:
        refused = module("postgresql_role", postgres.login(name=role_name, state="absent"))
        assert refused["failed"] and "reassign_owned_to" in refused["msg"]
        assert "nothing was changed" in refused["msg"]
        assert stored(postgres, role_name) is not None
        dropped = module("postgresql_role", postgres.login(
            name=role_name, state="absent", reassign_owned_to="gw_heir"))
        assert dropped["changed"] and stored(postgres, role_name) is None
        assert postgres.query("SELECT tableowner FROM pg_tables "
                              "WHERE tablename = 'gw_owned_table'") == [("gw_heir",)]
        again = module("postgresql_role", postgres.login(name=role_name, state="absent"))
        assert again["changed"] is False
    finally:
        postgres.execute("DROP TABLE IF EXISTS gw_owned_table; DROP ROLE IF EXISTS gw_heir")


@pytest.mark.parametrize("bad, message", [
    ({"unknown_attribute": True}, "unknown_attribute"),
    ({"connection_limit": -5}, "connection_limit"),
    ({"password": "plain-text-secret"}, "unconverted"),
    ({"member_of": ["gw_no_such_group"]}, "gw_no_such_group"),
    ({"settings": {"statement_timeout; DROP": "1"}}, "settings"),
])
def test_bad_input_is_refused_with_the_option_named(postgres, module, role_name, bad,
                                                    message):
    result = module("postgresql_role", postgres.login(name=role_name, **bad))
    assert result["failed"] and message in result["msg"], result
    assert stored(postgres, role_name) is None
    assert "plain-text-secret" not in result["_raw"]
