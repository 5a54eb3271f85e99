# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""postgresql_tenant against the session's real PostgreSQL 15.

The privilege tests read the catalog and then act as the tenant roles (SET ROLE), so
what is proven is what each role can do, not which statements ran.
"""

from __future__ import annotations

import itertools

import psycopg
import pytest
from ansible_collections.groundwork.erp_baseline.plugins.plugin_utils import scram

NUMBERS = itertools.count()


@pytest.fixture
def tenant(postgres):
    name = "gw_t%d" % next(NUMBERS)
    yield name
    postgres.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
    for kind in ("migrate", "ro", "app", "owner"):
        postgres.execute("DROP ROLE IF EXISTS %s_%s" % (name, kind))



def as_role(postgres, dbname, role, statement):
    """Run a statement as a tenant role; return None or the error's SQLSTATE class."""
    with postgres.connect(dbname) as connection:
        connection.execute("SET ROLE %s" % role)
        try:
            connection.execute(statement)
        except psycopg.Error as error:
            return error.sqlstate
    return None


def test_a_new_tenant_is_created_closed_and_the_rerun_plans_nothing(postgres, module, tenant):
    args = postgres.login(tenants=[{"name": tenant, "database": {"connection_limit": 40}}])
    first = module("postgresql_tenant", args)
    assert first.get("changed") and not first.get("failed"), first
    assert postgres.query("SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding) "
                          "FROM pg_database WHERE datname = %s", (tenant,)) == [
        (tenant + "_owner", "UTF8")]
    assert postgres.query("SELECT rolname, rolcanlogin, rolconnlimit FROM pg_roles "
                          "WHERE rolname LIKE %s ORDER BY 1", (tenant + "\\_%",)) == [
        (tenant + "_app", True, 40), (tenant + "_migrate", True, 3),
        (tenant + "_owner", False, -1), (tenant + "_ro", True, 5)]
    second = module("postgresql_tenant", args)
    assert second["changed"] is False and second["queries"] == [], second["queries"]
    assert {f["id"]: f["status"] for f in second["findings"]} == {
        "GW-PG-010": "pass", "GW-PG-011": "pass", "GW-PG-012": "pass", "GW-PG-013": "pass",
        "GW-PG-014": "pass"}


def test_check_mode_predicts_exactly_what_the_real_run_executes(postgres, module, tenant):
    args = postgres.login(tenants=[{"name": tenant}])
    predicted = module("postgresql_tenant", args, check=True)
    assert predicted["changed"]
    assert postgres.query("SELECT 1 FROM pg_database WHERE datname = %s", (tenant,)) == []
    real = module("postgresql_tenant", args)
    assert real["queries"] == predicted["queries"]


def test_revoking_from_public_settles_and_names_only_what_public_held(postgres, module,
                                                                      tenant):
    module("postgresql_tenant", postgres.login(tenants=[{"name": tenant}]))
    # Someone opens the tenant database and its schema to PUBLIC again.
    postgres.execute("GRANT TEMPORARY ON DATABASE %s TO PUBLIC" % tenant)
    postgres.execute("GRANT CREATE ON SCHEMA public TO PUBLIC", dbname=tenant)
    args = postgres.login(tenants=[{"name": tenant}])
    predicted = module("postgresql_tenant", args, check=True)
    assert predicted["queries"] == [
        'REVOKE TEMPORARY ON DATABASE "%s" FROM PUBLIC' % tenant,
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC"]
    assert module("postgresql_tenant", args)["queries"] == predicted["queries"]
    assert module("postgresql_tenant", args)["changed"] is False


def test_roles_can_do_exactly_their_part(postgres, module, tenant):
    module("postgresql_tenant", postgres.login(tenants=[{"name": tenant}]))
    migrate, app, ro = (tenant + kind for kind in ("_migrate", "_app", "_ro"))
    assert as_role(postgres, tenant, migrate,
                   "CREATE TABLE invoice (id serial PRIMARY KEY, total numeric)") is None
    assert as_role(postgres, tenant, app, "INSERT INTO invoice (total) VALUES (10)") is None
    assert as_role(postgres, tenant, app, "UPDATE invoice SET total = 11") is None
    assert as_role(postgres, tenant, ro, "SELECT * FROM invoice") is None
    # 42501 is insufficient_privilege.
    assert as_role(postgres, tenant, ro, "INSERT INTO invoice (total) VALUES (1)") == "42501"
    assert as_role(postgres, tenant, ro, "DELETE FROM invoice") == "42501"
    assert as_role(postgres, tenant, app, "CREATE TABLE app_made (id int)") == "42501"
    assert as_role(postgres, tenant, ro, "CREATE TABLE ro_made (id int)") == "42501"
    assert as_role(postgres, tenant, app, "DROP TABLE invoice") == "42501"
    # Reconciling again after the migration created objects plans nothing.
    assert module("postgresql_tenant", postgres.login(
        tenants=[{"name": tenant}]))["queries"] == []


def test_existing_tables_get_the_grants_and_ro_loses_writes(postgres, module, tenant):
    module("postgresql_tenant", postgres.login(tenants=[{"name": tenant}]))
    postgres.execute("CREATE TABLE legacy (id int); GRANT INSERT ON legacy TO %s_ro" % tenant,
                     dbname=tenant)
    result = module("postgresql_tenant", postgres.login(tenants=[{"name": tenant}]))
    assert result["queries"] == [
        'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "%s_app"'
        % tenant,
        'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "%s_ro"' % tenant,
        'REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public FROM "%s_ro"'
        % tenant]
    assert as_role(postgres, tenant, tenant + "_ro", "INSERT INTO legacy VALUES (1)") == "42501"
    assert as_role(postgres, tenant, tenant + "_app", "INSERT INTO legacy VALUES (1)") is None


def test_one_tenant_cannot_reach_another_tenants_database(postgres, module, tenant):
    other = tenant + "_b"
    try:
        verifier = scram.verifier("tenant-a-secret")
        module("postgresql_tenant", postgres.login(
            tenants=[{"name": tenant}, {"name": other}],
            passwords={tenant + "_app": verifier}))
        options = dict(host="127.0.0.1", port=postgres.port, user=tenant + "_app",
                       password="tenant-a-secret", sslmode="require")
        with psycopg.connect(dbname=tenant, **options) as connection:
            assert connection.execute("SELECT current_user").fetchone() == (tenant + "_app",)
        with pytest.raises(psycopg.OperationalError, match="permission denied"):
            psycopg.connect(dbname=other, **options)
    finally:
        postgres.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % other)
        for kind in ("migrate", "ro", "app", "owner"):
            postgres.execute("DROP ROLE IF EXISTS %s_%s" % (other, kind))


def test_passwords_are_set_once_and_never_shown(postgres, module, tenant):
    verifier = scram.verifier("Tenant-Secret-1")
    args = postgres.login(tenants=[{"name": tenant}], passwords={tenant + "_app": verifier})
    first = module("postgresql_tenant", args)
    assert postgres.query("SELECT rolpassword FROM pg_authid WHERE rolname = %s",
                          (tenant + "_app",)) == [(verifier,)]
    assert verifier not in first["_raw"] and "********" in str(first["queries"])
    assert module("postgresql_tenant", args)["changed"] is False


def test_an_absent_tenant_is_dropped_only_when_data_loss_is_confirmed(postgres, module,
                                                                      tenant):
    module("postgresql_tenant", postgres.login(tenants=[{"name": tenant}]))
    refused = module("postgresql_tenant", postgres.login(
        tenants=[{"name": tenant, "state": "absent"}]))
    assert refused["failed"] and "destroy_data" in refused["msg"]
    assert postgres.query("SELECT 1 FROM pg_database WHERE datname = %s", (tenant,)) == [(1,)]
    dropped = module("postgresql_tenant", postgres.login(
        tenants=[{"name": tenant, "state": "absent", "destroy_data": True}]))
    assert dropped["changed"]
    assert postgres.query("SELECT 1 FROM pg_database WHERE datname = %s", (tenant,)) == []
    assert postgres.query("SELECT 1 FROM pg_roles WHERE rolname LIKE %s",
                          (tenant + "\\_%",)) == []


@pytest.mark.parametrize("tenants, message", [
    ([{"name": "Tenant-A"}], "tenants[0]: name"),
    ([{"name": "a" * 31}], "tenants[0]: name"),
    ([{"name": "gw_dup"}, {"name": "gw_dup"}], "listed twice"),
    ([{"name": "gw_x", "database": {"connection_limit": 0}}], "database.connection_limit"),
    ([{"name": "gw_x", "colour": "blue"}], "colour"),
])
def test_bad_input_is_refused_before_anything_changes(postgres, module, tenants, message):
    result = module("postgresql_tenant", postgres.login(tenants=tenants))
    assert result["failed"] and message in result["msg"], result
    assert postgres.query("SELECT count(*) FROM pg_database WHERE datname LIKE 'gw\\_dup%%' "
                          "OR datname = 'gw_x'") == [(0,)]


def test_a_password_that_is_not_a_verifier_is_refused(postgres, module, tenant):
    result = module("postgresql_tenant", postgres.login(
        tenants=[{"name": tenant}], passwords={tenant + "_app": "plain-secret"}))
    assert result["failed"] and "verifier" in result["msg"]
    assert "plain-secret" not in result["_raw"]
