# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""postgresql_audit against the session's real PostgreSQL 15, in a weak and a hardened
state built for the test."""

from __future__ import annotations

import os
import socket
import subprocess
import time

import pytest

BIN = "/usr/lib/postgresql/15/bin"
MD5_PASSWORD = "Md5-Weak-Secret-3"
CONTROLS = ["GW-PG-%03d" % number for number in range(31, 45)]
NETWORK_TRUST_LINE = "host all all 192.0.2.0/24 trust\n"
UNKNOWN_OPTION_LINE = "hostssl all all 198.51.100.0/24 scram-sha-256 foo=bar\n"
HARDENED_SETTINGS = dict(log_connections="on", log_disconnections="on", log_statement="ddl",
                         log_min_duration_statement="250",
                         log_line_prefix="%m [%p] %u@%d from %h ")


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def configure(postgres, **settings):
    """ALTER SYSTEM, reload, and wait until a new session sees every value."""
    for name, value in settings.items():
        postgres.execute("ALTER SYSTEM SET %s = '%s'" % (name, value))
    postgres.execute("SELECT pg_reload_conf()")
    wait_for(postgres, settings)


def wait_for(postgres, settings):
    for _ in range(50):
        seen = dict(postgres.query("SELECT name, setting FROM pg_settings "
                                   "WHERE name = ANY(%s)", (list(settings),)))
        if all(seen[name] == value for name, value in settings.items()):
            return
        time.sleep(0.1)
    raise AssertionError("the server did not take %r" % settings)


def restart(postgres):
    done = subprocess.run(["runuser", "-u", "postgres", "--", BIN + "/pg_ctl", "-D",
                           str(postgres.data), "-l", str(postgres.top / "log"), "-m", "fast",
                           "-w", "restart"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr + (postgres.top / "log").read_text()


@pytest.fixture
def server_reset(postgres):
    """Settings, pg_hba and test objects back to the session's original afterwards."""
    yield
    postgres.execute("ALTER SYSTEM RESET ALL")
    postgres.hba.write_text(postgres.pristine_hba)
    postgres.execute("SELECT pg_reload_conf()")
    wait_for(postgres, dict(ssl="on", password_encryption="scram-sha-256"))
    postgres.execute("DROP DATABASE IF EXISTS gw_open")
    postgres.execute("DROP ROLE IF EXISTS gw_boss, gw_md5, gw_nopw")


@pytest.fixture
def weak(postgres, server_reset):
    """A second superuser, an md5 and a passwordless login role, a database open to PUBLIC
    with CREATE on its schema public, network trust and a line the server refuses."""
    postgres.execute("CREATE ROLE gw_boss SUPERUSER")
    with postgres.connect() as connection:
        connection.execute("SET password_encryption = 'md5'")
        connection.execute("CREATE ROLE gw_md5 LOGIN PASSWORD '%s'" % MD5_PASSWORD)
    postgres.execute("CREATE ROLE gw_nopw LOGIN")
    postgres.execute("CREATE DATABASE gw_open")
    postgres.execute("GRANT CREATE ON SCHEMA public TO PUBLIC", dbname="gw_open")
    with open(postgres.hba, "a") as hba:
        hba.write(NETWORK_TRUST_LINE + UNKNOWN_OPTION_LINE)
    configure(postgres, ssl="off", password_encryption="md5")


@pytest.fixture
def hardened(postgres, weak):
    """The weak state, then revoked, dropped and configured as the baseline wants."""
    postgres.execute("DROP ROLE gw_boss, gw_md5")
    postgres.execute("REVOKE CONNECT ON DATABASE gw_open FROM PUBLIC")
    postgres.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC", dbname="gw_open")
    postgres.hba.write_text(postgres.pristine_hba)
    configure(postgres, ssl="on", password_encryption="scram-sha-256", **HARDENED_SETTINGS)
    postgres.execute("ALTER ROLE gw_nopw PASSWORD 'Scram-Now-5'")


def line_of(postgres, text):
    return postgres.hba.read_text().splitlines().index(text.rstrip("\n")) + 1


def by_id(result):
    assert not result.get("failed") and result["changed"] is False, result
    assert [item["id"] for item in result["findings"]] == CONTROLS
    return {item.pop("id"): item for item in result["findings"]}


def fail(observed, expected):
    return dict(status="fail", observed=observed, expected=expected)


def passed(observed, expected):
    return dict(status="pass", observed=observed, expected=expected)


def test_the_weak_state_fails_every_control(postgres, module, weak):
    trust_lines = ", ".join([
        "line %d: local all all" % line_of(postgres, "local   all             all"
                                                     "                                     trust"),
        "line %d: local replication all" % line_of(
            postgres, "local   replication     all                                     trust"),
        "line %d: host all all" % line_of(postgres, NETWORK_TRUST_LINE)])
    result = module("postgresql_audit", postgres.login(expect_pgaudit=True))
    assert by_id(result) == {
        "GW-PG-031": fail("gw_boss", "no superuser but the bootstrap role"),
        "GW-PG-032": fail("gw_md5 (md5), gw_nopw (no password)",
                          "every login role has a SCRAM-SHA-256 verifier"),
        "GW-PG-033": fail(trust_lines, "no trust line"),
        "GW-PG-034": fail('line %d: unrecognized authentication option name: "foo"'
                          % line_of(postgres, UNKNOWN_OPTION_LINE), "no errors"),
        "GW-PG-035": fail("ssl = off", "on"),
        "GW-PG-036": fail("password_encryption = md5", "scram-sha-256"),
        "GW-PG-037": fail("gw_open", "PUBLIC has no CREATE on schema public"),
        "GW-PG-038": fail("gw_open", "PUBLIC has no CONNECT"),
        "GW-PG-039": fail("log_connections = off", "on"),
        "GW-PG-040": fail("log_disconnections = off", "on"),
        "GW-PG-041": fail("log_statement = none", "ddl, mod or all"),
        "GW-PG-042": fail("log_min_duration_statement = -1", "0 or more (milliseconds)"),
        "GW-PG-043": fail("log_line_prefix = %m [%p] ", "contains %u, %d and %h or %r"),
        "GW-PG-044": fail("shared_preload_libraries = ", "pgaudit listed"),
    }
    assert result["databases"] == ["gw_open", "postgres", "template1"]
    stored = postgres.query("SELECT rolpassword FROM pg_authid WHERE rolname = 'gw_md5'")[0][0]
    assert stored.startswith("md5")
    assert MD5_PASSWORD not in result["_raw"] and stored not in result["_raw"]


def test_the_hardened_state_passes_every_control(postgres, module, hardened):
    result = module("postgresql_audit", postgres.login(allow_local_trust=True))
    assert by_id(result) == {
        "GW-PG-031": passed("only the bootstrap superuser", "no superuser but the bootstrap role"),
        "GW-PG-032": passed("login roles checked: 2",
                            "every login role has a SCRAM-SHA-256 verifier"),
        "GW-PG-033": passed("no trust line", "no trust line but on local lines"),
        "GW-PG-034": passed("lines parsed: 6", "no errors"),
        "GW-PG-035": passed("ssl = on", "on"),
        "GW-PG-036": passed("password_encryption = scram-sha-256", "scram-sha-256"),
        "GW-PG-037": passed("databases checked: 3", "PUBLIC has no CREATE on schema public"),
        "GW-PG-038": passed("databases checked: 1", "PUBLIC has no CONNECT"),
        "GW-PG-039": passed("log_connections = on", "on"),
        "GW-PG-040": passed("log_disconnections = on", "on"),
        "GW-PG-041": passed("log_statement = ddl", "ddl, mod or all"),
        "GW-PG-042": passed("log_min_duration_statement = 250", "0 or more (milliseconds)"),
        "GW-PG-043": passed("log_line_prefix = %m [%p] %u@%d from %h ",
                            "contains %u, %d and %h or %r"),
        "GW-PG-044": dict(status="skipped", reason="pgaudit not expected (expect_pgaudit)"),
    }


def test_local_trust_fails_unless_allowed(postgres, module, hardened):
    result = by_id(module("postgresql_audit", postgres.login()))
    assert result["GW-PG-033"]["status"] == "fail"
    assert result["GW-PG-033"]["observed"].startswith("line %d: local all all" % line_of(
        postgres, "local   all             all                                     trust"))


def test_ignore_databases_decides_which_databases_connect_judges(postgres, module, hardened):
    result = by_id(module("postgresql_audit", postgres.login(ignore_databases=[])))
    assert result["GW-PG-038"] == fail("postgres, template0, template1", "PUBLIC has no CONNECT")
    only_gw_open = by_id(module("postgresql_audit", postgres.login(
        ignore_databases=["postgres", "template0", "template1", "gw_open"])))
    assert only_gw_open["GW-PG-038"] == passed("databases checked: 0", "PUBLIC has no CONNECT")


def test_other_log_settings_that_pass_and_fail(postgres, module, hardened):
    configure(postgres, log_statement="mod", log_min_duration_statement="0",
              log_line_prefix="%u %d %r ")
    result = by_id(module("postgresql_audit", postgres.login()))
    assert [result[control]["status"] for control in ("GW-PG-041", "GW-PG-042",
                                                      "GW-PG-043")] == ["pass"] * 3
    configure(postgres, log_statement="all", log_line_prefix="%u %d ")
    result = by_id(module("postgresql_audit", postgres.login()))
    assert result["GW-PG-041"]["status"] == "pass"
    assert result["GW-PG-043"] == fail("log_line_prefix = %u %d ",
                                       "contains %u, %d and %h or %r")


@pytest.mark.skipif(not os.path.exists("/usr/lib/postgresql/15/lib/pgaudit.so"),
                    reason="Debian's postgresql-15-pgaudit is not installed")
def test_pgaudit_in_shared_preload_libraries_passes(postgres, module, server_reset):
    postgres.execute("ALTER SYSTEM SET shared_preload_libraries = pg_stat_statements, pgaudit")
    restart(postgres)
    try:
        result = by_id(module("postgresql_audit", postgres.login(expect_pgaudit=True)))
    finally:
        postgres.execute("ALTER SYSTEM RESET shared_preload_libraries")
        restart(postgres)
    assert result["GW-PG-044"] == passed(
        "shared_preload_libraries = pg_stat_statements, pgaudit", "pgaudit listed")


def test_a_login_that_is_not_superuser_gets_unknowns_with_the_reason(postgres, module,
                                                                     server_reset):
    postgres.execute("CREATE ROLE gw_nopw LOGIN")
    result = by_id(module("postgresql_audit", postgres.login(login_user="gw_nopw",
                                                             expect_pgaudit=True)))
    assert result["GW-PG-031"]["status"] == "pass"
    assert result["GW-PG-032"] == dict(status="unknown", reason=(
        "pg_authid could not be read: permission denied for table pg_authid"))
    for control in ("GW-PG-033", "GW-PG-034"):
        assert result[control]["status"] == "unknown"
        assert result[control]["reason"].startswith(
            "pg_hba_file_rules could not be read: permission denied"), result[control]
    assert result["GW-PG-044"] == dict(status="unknown", reason=(
        "shared_preload_libraries could not be read: not visible to this login"))
    assert result["GW-PG-035"] == passed("ssl = on", "on")


def test_a_database_it_cannot_enter_makes_the_schema_check_unknown(postgres, module,
                                                                   server_reset):
    postgres.execute("CREATE DATABASE gw_open")
    postgres.execute("CREATE ROLE gw_nopw LOGIN")
    postgres.execute("REVOKE CONNECT ON DATABASE gw_open FROM PUBLIC")
    result = by_id(module("postgresql_audit", postgres.login(login_user="gw_nopw")))
    assert result["GW-PG-037"]["status"] == "unknown"
    assert result["GW-PG-037"]["reason"].startswith("could not connect to: gw_open (unreadable:")


def test_an_unreachable_server_gives_unknown_for_every_control(postgres, module):
    result = module("postgresql_audit", dict(postgres.login(), login_port=closed_port(),
                                             login_password="Never-Shown-8"))
    found = by_id(result)
    assert {item["status"] for item in found.values()} == {"unknown"}
    assert found["GW-PG-031"]["reason"].startswith("could not connect: ")
    assert result["databases"] == []
    assert "Never-Shown-8" not in result["_raw"]


def test_check_mode_reports_the_same_and_changes_nothing(postgres, module, weak):
    real = module("postgresql_audit", postgres.login())
    checked = module("postgresql_audit", postgres.login(), check=True)
    assert checked["changed"] is False
    assert checked["findings"] == real["findings"]


def test_a_database_without_schema_public_passes_the_schema_check(postgres, module,
                                                                   server_reset):
    postgres.execute("CREATE DATABASE gw_open")
    postgres.execute("DROP SCHEMA public", dbname="gw_open")
    result = by_id(module("postgresql_audit", postgres.login()))
    assert result["GW-PG-037"] == passed("databases checked: 3",
                                         "PUBLIC has no CREATE on schema public")
    postgres.execute("GRANT CREATE ON SCHEMA public TO PUBLIC", dbname="template1")
    try:
        result = by_id(module("postgresql_audit", postgres.login()))
    finally:
        postgres.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC", dbname="template1")
    assert result["GW-PG-037"] == fail("template1", "PUBLIC has no CREATE on schema public")
