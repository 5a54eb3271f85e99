# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""postgresql_hba against the session's real PostgreSQL 15: the file, the server's parse
of it (pg_hba_file_rules) and real connections after the reload."""

from __future__ import annotations

import os
import socket

import psycopg
import pytest

# The test cluster's own access: the tests connect as postgres over the socket, trusted.
SUPERUSER_RULE = dict(type="local", databases=["all"], users=["postgres"], method="trust")
APP_ROLE = "gw_hba_app"
APP_PASSWORD = "Hba-Test-Secret-7"


def app_rule(**extra):
    rule = dict(type="hostssl", databases=["postgres"], users=[APP_ROLE],
                address="127.0.0.1/32", method="scram-sha-256")
    rule.update(extra)
    return rule


@pytest.fixture
def hba(postgres):
    """The cluster's pg_hba.conf, put back to the original and reloaded afterwards."""
    yield postgres.hba
    postgres.hba.write_text(postgres.pristine_hba)
    postgres.execute("SELECT pg_reload_conf()")
    for name in os.listdir(postgres.data):
        if name.endswith(".gw-backup"):
            os.unlink(postgres.data / name)


@pytest.fixture
def app_role(postgres):
    postgres.execute("DROP ROLE IF EXISTS %s" % APP_ROLE)
    postgres.execute("CREATE ROLE %s LOGIN PASSWORD '%s'" % (APP_ROLE, APP_PASSWORD))
    yield APP_ROLE
    postgres.execute("DROP ROLE IF EXISTS %s" % APP_ROLE)


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def args(postgres, rules, **extra):
    return postgres.login(path=str(postgres.hba), rules=rules, **extra)


def server_rules(postgres):
    return postgres.query("SELECT type, database, user_name, address, auth_method, options, "
                          "error FROM pg_hba_file_rules ORDER BY line_number")


def connect_app(postgres, sslmode):
    return psycopg.connect(host="127.0.0.1", port=postgres.port, dbname="postgres",
                           user=APP_ROLE, password=APP_PASSWORD, sslmode=sslmode,
                           connect_timeout=5)


def test_the_declared_rules_replace_the_file_and_the_server_uses_them(postgres, module, hba,
                                                                      app_role):
    result = module("postgresql_hba", args(postgres, [SUPERUSER_RULE, app_rule()]))
    assert result["changed"] is True and not result.get("failed"), result
    assert result["rules"] == 5
    assert result["findings"] == [{"id": "GW-PG-030", "status": "fixed",
                                   "observed": "file differs from the rules",
                                   "expected": "5 declared rules, in order"}]
    assert hba.read_text() == (
        "# Managed by groundwork.erp_baseline (postgresql_hba). Local changes are replaced.\n"
        "# Rules are tried in order; the first that matches decides.\n"
        "local   all      postgres                trust\n"
        "hostssl postgres gw_hba_app 127.0.0.1/32 scram-sha-256\n"
        "local   all      all                     reject\n"
        "host    all      all        0.0.0.0/0    reject\n"
        "host    all      all        ::/0         reject\n")
    assert server_rules(postgres) == [
        ("local", ["all"], ["postgres"], None, "trust", None, None),
        ("hostssl", ["postgres"], [APP_ROLE], "127.0.0.1", "scram-sha-256", None, None),
        ("local", ["all"], ["all"], None, "reject", None, None),
        ("host", ["all"], ["all"], "0.0.0.0", "reject", None, None),
        ("host", ["all"], ["all"], "::", "reject", None, None),
    ]
    # The reload took effect: TLS with SCRAM gets in, the same role without TLS does not.
    with connect_app(postgres, "require") as connection:
        assert connection.execute("SELECT ssl FROM pg_stat_ssl "
                                  "WHERE pid = pg_backend_pid()").fetchone() == (True,)
    with pytest.raises(psycopg.OperationalError, match="rejects connection"):
        connect_app(postgres, "disable")


def test_the_backup_holds_the_previous_file_and_owner_and_mode_are_kept(postgres, module,
                                                                        hba):
    os.chmod(hba, 0o640)
    before = os.stat(hba)
    result = module("postgresql_hba", args(postgres, [SUPERUSER_RULE]))
    after = os.stat(hba)
    assert (after.st_uid, after.st_gid, after.st_mode) == (
        before.st_uid, before.st_gid, before.st_mode)
    assert after.st_ino != before.st_ino, "written through a new file and a rename"
    with open(result["backup"]) as backup:
        assert backup.read() == postgres.pristine_hba


def test_a_commented_rule_with_an_ipv6_host_is_stable_byte_for_byte(postgres, module, hba):
    rules = [SUPERUSER_RULE,
             dict(type="hostssl", databases=["erp data", "tenant_a"], users=["+dba"],
                  address="2001:DB8::1/128", method="scram-sha-256",
                  comment="  tenant_a finance workstation  "),
             dict(type="hostssl", databases=["all"], users=["all"],
                  address="2001:db8::/32", method="cert",
                  options={"map": "office", "clientname": "DN"})]
    first = module("postgresql_hba", args(postgres, rules))
    assert first["changed"] is True, first
    written = hba.read_bytes()
    lines = written.decode().splitlines()
    comment_at = lines.index("# tenant_a finance workstation")
    assert lines[comment_at + 1].split() == [
        "hostssl", '"erp', 'data",tenant_a', "+dba", "2001:db8::1/128", "scram-sha-256"]
    assert lines[comment_at + 2].split() == [
        "hostssl", "all", "all", "2001:db8::/32", "cert", "clientname=DN", "map=office"]
    parsed = server_rules(postgres)
    assert parsed[1][:5] == ("hostssl", ["erp data", "tenant_a"], ["+dba"], "2001:db8::1",
                             "scram-sha-256")
    assert "map=office" in parsed[2][5]
    assert all(row[6] is None for row in parsed)
    for _ in range(2):
        again = module("postgresql_hba", args(postgres, rules), diff=True)
        assert again["changed"] is False and "diff" not in again, again
        assert again["backup"] is None
        assert again["findings"][0]["status"] == "pass"
        assert hba.read_bytes() == written


def test_a_missing_file_is_created_private_to_the_data_directory_owner(postgres, module,
                                                                       hba):
    os.unlink(hba)
    result = module("postgresql_hba", args(postgres, [SUPERUSER_RULE]), diff=True)
    assert result["changed"] is True and not result.get("failed"), result
    assert result["backup"] is None and result["diff"]["before"] == ""
    assert result["findings"][0]["observed"] == "file missing"
    written, folder = os.stat(hba), os.stat(postgres.data)
    assert (written.st_mode & 0o777, written.st_uid, written.st_gid) == (
        0o640, folder.st_uid, folder.st_gid)
    assert [row[4] for row in server_rules(postgres)] == ["trust", "reject", "reject", "reject"]


def test_an_unchanged_file_needs_no_connection(postgres, module, hba):
    rules = [SUPERUSER_RULE]
    module("postgresql_hba", args(postgres, rules))
    result = module("postgresql_hba", dict(args(postgres, rules), login_port=closed_port()))
    assert result["changed"] is False and not result.get("failed"), result


def test_check_mode_predicts_the_change_and_leaves_the_file(postgres, module, hba):
    result = module("postgresql_hba", args(postgres, [SUPERUSER_RULE]), check=True, diff=True)
    assert result["changed"] is True and not result.get("failed"), result
    assert result["findings"][0]["status"] == "fail"
    assert result["backup"] is None
    assert hba.read_text() == postgres.pristine_hba
    assert result["diff"]["before"] == postgres.pristine_hba
    assert result["diff"]["after"].endswith("host  all all      ::/0      reject\n")
    real = module("postgresql_hba", args(postgres, [SUPERUSER_RULE]))
    assert hba.read_text() == result["diff"]["after"], "check mode predicted the real run"
    assert real["changed"] is True


def test_a_real_run_returns_the_diff(postgres, module, hba):
    result = module("postgresql_hba", args(postgres, [SUPERUSER_RULE]), diff=True)
    assert result["diff"]["before"] == postgres.pristine_hba
    assert result["diff"]["after"] == hba.read_text()
    assert result["diff"]["before_header"] == str(hba)


def test_audit_mode_reports_and_never_writes_or_connects(postgres, module, hba):
    offline = dict(login_port=closed_port(), mode="audit")
    differs = module("postgresql_hba", dict(args(postgres, [SUPERUSER_RULE]), **offline))
    assert differs["changed"] is False and not differs.get("failed"), differs
    assert differs["findings"][0]["status"] == "fail"
    assert hba.read_text() == postgres.pristine_hba
    module("postgresql_hba", args(postgres, [SUPERUSER_RULE]))
    matches = module("postgresql_hba", dict(args(postgres, [SUPERUSER_RULE]), **offline))
    assert matches["findings"][0]["status"] == "pass"


def test_final_reject_can_be_left_out(postgres, module, hba):
    result = module("postgresql_hba", args(postgres, [SUPERUSER_RULE], final_reject=False))
    assert result["rules"] == 1
    assert [row[4] for row in server_rules(postgres)] == ["trust"]


def test_legacy_policy_and_non_ssl_host_lines_when_asked(postgres, module, hba):
    rules = [SUPERUSER_RULE, dict(type="host", databases=["all"], users=["all"],
                                  address="192.0.2.0/24", method="md5"),
             dict(type="hostnossl", databases=["all"], users=["all"],
                  address="198.51.100.7/32", method="password")]
    result = module("postgresql_hba", args(postgres, rules, policy="legacy",
                                           allow_non_ssl_host_lines=True))
    assert result["changed"] is True and not result.get("failed"), result
    assert [row[4] for row in server_rules(postgres)][:3] == ["trust", "md5", "password"]


def test_reject_lines_of_any_type_need_no_permission(postgres, module, hba):
    rules = [SUPERUSER_RULE, dict(type="hostnossl", databases=["all"], users=["all"],
                                  address="0.0.0.0/0", method="reject")]
    result = module("postgresql_hba", args(postgres, rules))
    assert result["changed"] is True and not result.get("failed"), result


@pytest.mark.parametrize("rule, message", [
    (app_rule(address="192.0.2.300/32"), "does not appear to be an IPv4 or IPv6 network"),
    (app_rule(address="192.0.2.1/24"), "has host bits set"),
    (app_rule(address="2001:db8::1/64"), "has host bits set"),
    (app_rule(address="2001:db8::/129"), "does not appear to be an IPv4 or IPv6 network"),
    (app_rule(address="192.0.2.1"), "must be in CIDR form"),
    (app_rule(address="db.example.com/32"), "does not appear to be an IPv4 or IPv6"),
    (app_rule(address=None), "address is required for a hostssl rule"),
    (app_rule(type="host", method="trust"), "trust is refused on a host line"),
    (app_rule(method="trust"), "trust is refused on a hostssl line"),
    (app_rule(method="md5"), "method md5 is refused under policy scram-only"),
    (app_rule(method="password"), "method password is refused under policy scram-only"),
    (app_rule(type="host"), "host lines accept connections without TLS"),
    (app_rule(type="hostnossl"), "hostnossl lines accept connections without TLS"),
    (app_rule(method="scram"), "unknown method 'scram'"),
    (app_rule(type="hostgssenc"), "type 'hostgssenc' is not one of"),
    (app_rule(method="peer"), "peer works only on local lines"),
    (app_rule(type="local", address=None, method="cert"), "cert works only on hostssl"),
    (dict(SUPERUSER_RULE, address="127.0.0.1/32"), "address '127.0.0.1/32' given for a local"),
    (app_rule(databases=["@dbs.txt"]), "@file inclusions are refused"),
    (app_rule(users=['bad"name']), "cannot be written to pg_hba.conf"),
    (app_rule(users=["+g h"]), "a +role name may hold only"),
    (app_rule(databases=["d" * 64]), "longer than PostgreSQL's 63-byte names"),
    (app_rule(users=[]), "databases and users must each list at least one name"),
    (app_rule(options={"Map": "x"}), "option name 'Map' is not a pg_hba option name"),
    (app_rule(options={"map": 'a"b'}), "option map: the value cannot hold quotes"),
    (app_rule(comment="two\nlines"), "comment must be one line"),
])
def test_bad_rules_fail_naming_the_rule_before_anything_is_touched(postgres, module, hba,
                                                                   rule, message):
    before = hba.read_bytes()
    # A closed port: a module that connected first would fail with a connection error.
    result = module("postgresql_hba", dict(args(postgres, [SUPERUSER_RULE, rule]),
                                           login_port=closed_port()))
    assert result.get("failed") is True, result
    assert result["msg"].startswith("rules[1] ("), result["msg"]
    assert message in result["msg"], result["msg"]
    assert hba.read_bytes() == before


@pytest.mark.parametrize("rule, server_message", [
    (app_rule(options={"foo": "bar"}), 'unrecognized authentication option name: "foo"'),
    (app_rule(type="host", options={"clientcert": "verify-full"}),
     'clientcert can only be configured for "hostssl" rows'),
    (app_rule(method="ldap"), 'authentication method "ldap" requires argument'),
])
def test_a_file_the_server_refuses_is_rolled_back(postgres, module, hba, rule,
                                                  server_message):
    before = hba.read_bytes()
    result = module("postgresql_hba", args(postgres, [SUPERUSER_RULE, rule],
                                           allow_non_ssl_host_lines=True))
    assert result.get("failed") is True, result
    assert "the previous file is back in place" in result["msg"]
    assert "line 4 (rules[1]): " + server_message in result["msg"], result["msg"]
    assert hba.read_bytes() == before
    assert [row[6] for row in server_rules(postgres)] == [None] * 6
    assert not [name for name in os.listdir(postgres.data) if name.endswith(".gw-backup")]


def test_rules_that_would_lock_out_the_login_are_rolled_back(postgres, module, hba,
                                                             app_role):
    before = hba.read_bytes()
    # Valid for the server, but the module's own login (postgres on the socket) is rejected.
    rules = [dict(SUPERUSER_RULE, users=[APP_ROLE]), app_rule()]
    result = module("postgresql_hba", args(postgres, rules))
    assert result.get("failed") is True, result
    assert "would lock out this module's own login" in result["msg"], result["msg"]
    assert "rejects connection" in result["msg"], result["msg"]
    assert hba.read_bytes() == before
    # Reloaded again: a new session of the superuser gets in.
    assert postgres.query("SELECT current_user") == [("postgres",)]
    assert not [name for name in os.listdir(postgres.data) if name.endswith(".gw-backup")]


def test_a_path_the_server_does_not_read_is_refused(postgres, module, hba, tmp_path):
    other = tmp_path / "pg_hba.conf"
    other.write_text("# not the server's\n")
    result = module("postgresql_hba", dict(args(postgres, [SUPERUSER_RULE]),
                                           path=str(other)))
    assert result.get("failed") is True
    assert "is not the file the server reads (hba_file = %s)" % hba in result["msg"]
    assert other.read_text() == "# not the server's\n"


def test_the_login_password_never_appears_in_the_output(postgres, module, hba):
    secret = "Login-Secret-Never-Shown-4"
    result = module("postgresql_hba", args(postgres, [SUPERUSER_RULE], login_password=secret),
                    diff=True)
    assert not result.get("failed"), result
    failed = module("postgresql_hba", dict(args(postgres, [SUPERUSER_RULE, app_rule()],
                                                login_password=secret),
                                           login_host="127.0.0.1", login_user=APP_ROLE))
    assert failed.get("failed") is True
    assert secret not in result["_raw"] and secret not in failed["_raw"]
