"""The hardened PostgreSQL tier, read from the server and tried as its tenants."""

import json
import re
import shlex

import psycopg
import pytest
from conftest import ADDRESS, GIVEN_SECRET, SCENARIO, VERIFY_REPORTS, run_playbook, secret

INSUFFICIENT_PRIVILEGE = "42501"


def connect(user, password, dbname, sslmode="require"):
    return psycopg.connect(host=ADDRESS, port=5432, user=user, password=password,
                           dbname=dbname, sslmode=sslmode, connect_timeout=10,
                           autocommit=True)


def psql(db, statement, dbname="postgres"):
    return db.check_output("runuser -u postgres -- psql -XAtq -d %s -c %s"
                           % (dbname, shlex.quote(statement)))


def test_tenant_app_role_connects_over_tls_with_scram():
    with connect("tenant_a_app", secret("tenant_a", "db_app_password"), "tenant_a") as conn:
        ssl, version = conn.execute("SELECT ssl, version FROM pg_stat_ssl "
                                    "WHERE pid = pg_backend_pid()").fetchone()
        assert ssl is True and version in ("TLSv1.2", "TLSv1.3")


def test_the_stored_password_is_a_scram_verifier(db):
    kinds = psql(db, "SELECT rolname || ' ' || split_part(rolpassword, '$', 1) FROM pg_authid "
                     "WHERE rolname LIKE 'tenant\\_%' AND rolcanlogin ORDER BY 1")
    assert kinds.splitlines() == [
        "%s_%s SCRAM-SHA-256" % (tenant, kind) for tenant in ("tenant_a", "tenant_b")
        for kind in ("app", "migrate", "ro")]


def test_a_given_secret_is_used_as_the_password():
    with connect("tenant_b_app", GIVEN_SECRET, "tenant_b") as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("tenant_b_app",)


def test_a_connection_without_tls_is_refused():
    with pytest.raises(psycopg.OperationalError, match="pg_hba.conf rejects connection"):
        connect("tenant_a_app", secret("tenant_a", "db_app_password"), "tenant_a",
                sslmode="disable")


def test_a_tenant_cannot_connect_to_another_tenants_database():
    with pytest.raises(psycopg.OperationalError, match="pg_hba.conf rejects connection"):
        connect("tenant_a_app", secret("tenant_a", "db_app_password"), "tenant_b")


def test_the_superuser_cannot_log_in_over_the_network():
    with pytest.raises(psycopg.OperationalError, match="pg_hba.conf rejects connection"):
        connect("postgres", "anything", "postgres")


def test_roles_can_do_only_their_part():
    with connect("tenant_a_migrate", secret("tenant_a", "db_migrate_password"),
                 "tenant_a") as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS project_budget "
                     "(id serial PRIMARY KEY, amount numeric)")
    with connect("tenant_a_app", secret("tenant_a", "db_app_password"), "tenant_a") as conn:
        conn.execute("INSERT INTO project_budget (amount) VALUES (1250.50)")
        with pytest.raises(psycopg.Error) as refused:
            conn.execute("CREATE TABLE app_made (id int)")
        assert refused.value.sqlstate == INSUFFICIENT_PRIVILEGE
    with connect("tenant_a_ro", secret("tenant_a", "db_ro_password"), "tenant_a") as conn:
        assert conn.execute("SELECT count(*) >= 1 FROM project_budget").fetchone() == (True,)
        for statement in ("INSERT INTO project_budget (amount) VALUES (1)",
                          "DELETE FROM project_budget", "CREATE TABLE ro_made (id int)"):
            with pytest.raises(psycopg.Error) as refused:
                conn.execute(statement)
            assert refused.value.sqlstate == INSUFFICIENT_PRIVILEGE, statement


def test_server_settings_in_force(db):
    shown = psql(db, "SELECT name || '=' || setting FROM pg_settings WHERE name IN ("
                     "'ssl', 'ssl_min_protocol_version', 'password_encryption', "
                     "'listen_addresses', 'log_connections', 'log_statement', "
                     "'shared_preload_libraries', 'data_checksums') ORDER BY 1")
    assert shown.splitlines() == [
        "data_checksums=on", "listen_addresses=127.0.0.1,10.89.42.10", "log_connections=on",
        "log_statement=ddl", "password_encryption=scram-sha-256",
        "shared_preload_libraries=pgaudit", "ssl=on", "ssl_min_protocol_version=TLSv1.2"]


def test_pgaudit_logs_ddl(db):
    psql(db, "CREATE TABLE IF NOT EXISTS audit_probe (id int)", dbname="tenant_b")
    log = db.check_output("cat /var/log/postgresql/postgresql-15-main.log")
    assert "AUDIT: SESSION" in log and "audit_probe" in log


def test_data_directory_and_hba_file(db):
    assert db.file("/var/lib/postgresql/15/main").mode == 0o700
    hba = db.file("/etc/postgresql/15/main/pg_hba.conf").content_string
    lines = [line.split() for line in hba.splitlines() if line and not line.startswith("#")]
    assert lines[0] == ["local", "all", "postgres", "peer"]
    assert all(line[0] == "hostssl" and line[-1] == "scram-sha-256" for line in lines[1:3])
    assert lines[-1][-1] == "reject" and not any("trust" in line for line in lines)


def test_every_control_passed_or_was_fixed(report):
    statuses = {finding["id"]: finding["status"] for finding in report["findings"]}
    assert statuses and set(statuses.values()) <= {"pass", "fixed"}, statuses


def test_no_plaintext_password_in_a_verbose_log(verbose_converge):
    assert verbose_converge.returncode == 0, verbose_converge.stdout[-3000:]
    log = verbose_converge.stdout + verbose_converge.stderr
    secrets = [secret(tenant, "db_%s_password" % kind) for tenant in ("tenant_a", "tenant_b")
               for kind in ("app", "ro", "migrate") if (tenant, kind) != ("tenant_b", "app")]
    assert len(secrets) == 5 and GIVEN_SECRET not in log
    for value in secrets:
        assert value not in log
    # The log holds the tenant task's output: the test would see a leak if there were one.
    assert "tenant_a_app" in log and "ALTER ROLE" not in log


def test_audit_mode_changes_nothing_and_reports(db):
    before = db.check_output("find /etc/postgresql -type f -exec sha256sum {} + | sort")
    catalog = psql(db, "SELECT md5(string_agg(rolname || rolpassword, ',' ORDER BY rolname)) "
                       "FROM pg_authid")
    psql(db, "GRANT CREATE ON SCHEMA public TO PUBLIC", dbname="tenant_a")
    try:
        result = run_playbook(SCENARIO / "converge.yml", extra_vars={
            "erp_baseline_mode": "audit"})
        assert result.returncode == 0, result.stdout[-3000:]
        assert re.search(r"gw-molecule-pg +: ok=[0-9]+ +changed=0 ", result.stdout), \
            result.stdout[-2000:]
        assert psql(db, "SELECT has_schema_privilege('public', 'public', 'CREATE')",
                    dbname="tenant_a") == "t"
        report = json.loads((VERIFY_REPORTS / "latest" / "gw-molecule-pg.json").read_text())
        by_id = {finding["id"]: finding for finding in report["findings"]}
        assert by_id["GW-PG-012"]["status"] == "fail"
        assert "tenant_a" in by_id["GW-PG-012"]["observed"]
    finally:
        psql(db, "REVOKE CREATE ON SCHEMA public FROM PUBLIC", dbname="tenant_a")
    assert db.check_output("find /etc/postgresql -type f -exec sha256sum {} + | sort") == before
    assert psql(db, "SELECT md5(string_agg(rolname || rolpassword, ',' ORDER BY rolname)) "
                    "FROM pg_authid") == catalog


@pytest.mark.parametrize("extra_vars, message", [
    ({"postgresql_baseline_listen_addresses": ["*"]}, "postgresql_baseline_listen_all"),
    ({"postgresql_baseline_client_networks": ["10.89.42.0/33"]},
     "postgresql_baseline_client_networks"),
    ({"erp_baseline_tenants": [{"name": "Tenant-A"}]}, "erp_baseline_tenants"),
    ({"erp_baseline_tenants": [{"name": "tenant_a", "state": "absent"}]}, "destroy_data"),
    ({"postgresql_baseline_settings_extra": {"no_such_setting": "1"}}, "no_such_setting"),
])
def test_bad_input_fails_with_the_variable_named_and_changes_nothing(db, extra_vars, message):
    before = db.check_output("find /etc/postgresql -type f -exec sha256sum {} + | sort")
    result = run_playbook(SCENARIO / "converge.yml", extra_vars=extra_vars)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and message in output, output[-3000:]
    assert db.check_output("find /etc/postgresql -type f -exec sha256sum {} + | sort") == before
    assert psql(db, "SELECT count(*) FROM pg_database WHERE datname = 'tenant_a'") == "1"
