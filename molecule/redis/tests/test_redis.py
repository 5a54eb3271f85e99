"""The hardened Redis tier, read from the server and tried as its tenants."""

import json
import re

import pytest
import redis
from conftest import (ADDRESS, GIVEN_SECRET, HOST, SCENARIO, VERIFY_REPORTS, run_playbook,
                      secret)

FILES = ("find /etc/redis /etc/systemd/system/redis-server*.d -type f "
         "-exec sha256sum {} + | sort")


def tenant_a(connect):
    return connect("tenant_a_app", secret("tenant_a", "redis_app_password"))


def test_the_default_user_cannot_run_any_command(connect):
    with pytest.raises(redis.AuthenticationError):
        connect().ping()
    with pytest.raises(redis.AuthenticationError):
        connect("default", "anything").ping()


def test_a_tenant_reads_and_writes_its_own_keys_over_tls(connect):
    client = tenant_a(connect)
    assert client.set("tenant_a:session:1", "open") is True
    assert client.get("tenant_a:session:1") == "open"
    assert client.publish("tenant_a:bus", "hello") == 0


@pytest.mark.parametrize("command", [
    ("GET", "tenant_b:session:1"),
    ("SET", "tenant_b:session:1", "stolen"),
    ("FLUSHALL",),
    ("FLUSHDB",),
    ("CONFIG", "GET", "requirepass"),
    ("KEYS", "*"),
    ("SCAN", "0"),
    ("MODULE", "LIST"),
    ("INFO",),
    ("PUBLISH", "tenant_b:bus", "hello"),
    ("ACL", "LIST"),
])
def test_a_tenant_gets_noperm_outside_its_part(connect, command):
    with pytest.raises(redis.exceptions.NoPermissionError):
        tenant_a(connect).execute_command(*command)


def test_a_given_secret_is_the_password(connect):
    client = connect("tenant_b_app", GIVEN_SECRET)
    assert client.execute_command("ACL", "WHOAMI") == "tenant_b_app"


def test_the_plaintext_port_does_not_answer():
    client = redis.Redis(host=ADDRESS, port=6379, socket_connect_timeout=5)
    with pytest.raises(redis.ConnectionError):
        client.ping()


def test_a_dedicated_instance_holds_only_its_tenant(connect, cache):
    own = connect("tenant_c_app", secret("tenant_c", "redis_app_password"), port=6391)
    assert own.set("tenant_c:cache:1", "x") is True
    with pytest.raises(redis.AuthenticationError):
        connect("tenant_a_app", secret("tenant_a", "redis_app_password"), port=6391).ping()
    with pytest.raises(redis.AuthenticationError):
        connect("tenant_c_app", secret("tenant_c", "redis_app_password")).ping()
    config = cache.file("/etc/redis/redis-tenant_c.conf").content_string
    assert "maxmemory 64mb" in config and "maxmemory-policy allkeys-lru" in config
    assert cache.service("redis-server@tenant_c").is_running
    assert cache.service("redis-server@tenant_c").is_enabled


def test_the_aclfile_names_the_default_user_off(cache):
    lines = cache.file("/etc/redis/users.acl").content_string.splitlines()
    default = [line for line in lines if line.startswith("user default ")]
    assert len(default) == 1 and " off " in default[0] + " "
    assert not any("nopass" in line for line in lines)
    # Passwords are stored as SHA-256 hashes only.
    assert all(re.search(r" #[0-9a-f]{64}( |$)", line) for line in lines
               if not line.startswith("user default "))


def test_server_settings_in_force(cache):
    config = cache.file("/etc/redis/redis.conf")
    assert (config.mode, config.user, config.group) == (0o640, "redis", "redis")
    text = config.content_string
    for line in ("protected-mode yes", "port 0", "tls-port 6380", "maxmemory 256mb",
                 "maxmemory-policy noeviction", "appendonly yes", "appendfsync everysec",
                 'tls-protocols "TLSv1.2 TLSv1.3"', "unixsocketperm 770",
                 "bind 127.0.0.1 10.89.43.10"):
        assert line in text.splitlines(), line
    assert "rename-command" not in text and "requirepass" not in text
    assert cache.file("/var/lib/redis").mode == 0o750
    assert cache.file("/etc/redis").mode & 0o007 == 0


def test_the_unit_runs_sandboxed(cache):
    shown = cache.check_output("systemctl show redis-server redis-server@tenant_c "
                               "-p NoNewPrivileges,ProtectSystem,ProtectHome,PrivateTmp,UMask")
    for value in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                  "PrivateTmp=yes", "UMask=0027"):
        assert shown.count(value) == 2, shown


def test_every_control_passed_or_was_fixed(report):
    statuses = {finding["id"]: finding["status"] for finding in report["findings"]}
    assert statuses and set(statuses.values()) <= {"pass", "fixed"}, statuses


def test_no_password_in_a_verbose_log(verbose_converge):
    assert verbose_converge.returncode == 0, verbose_converge.stdout[-3000:]
    log = verbose_converge.stdout + verbose_converge.stderr
    secrets = [secret("tenant_a", "redis_app_password"),
               secret("tenant_c", "redis_app_password"),
               secret("_platform", "redis_admin_password")]
    for value in secrets + [GIVEN_SECRET]:
        assert value not in log
    # The log holds the ACL task's output: the test would see a leak if there were one.
    assert "tenant_a_app" in log
    assert re.search(HOST + r" +: ok=[0-9]+ +changed=0 ", log), log[-2000:]


def test_audit_mode_changes_nothing_and_reports(cache, connect):
    before = cache.check_output(FILES)
    admin = connect("erp_admin", secret("_platform", "redis_admin_password"))
    admin.execute_command("ACL", "SETUSER", "tenant_a_app", "+keys")
    try:
        acl_before = admin.execute_command("ACL", "LIST")
        result = run_playbook(SCENARIO / "converge.yml", extra_vars={
            "erp_baseline_mode": "audit"})
        assert result.returncode == 0, result.stdout[-3000:]
        assert re.search(HOST + r" +: ok=[0-9]+ +changed=0 ", result.stdout), \
            result.stdout[-2000:]
        assert admin.execute_command("ACL", "LIST") == acl_before
        report = json.loads((VERIFY_REPORTS / "latest" / (HOST + ".json")).read_text())
        failed = {finding["id"] for finding in report["findings"]
                  if finding["status"] == "fail"}
        assert failed, report["findings"]
    finally:
        admin.execute_command("ACL", "SETUSER", "tenant_a_app", "-keys")
    assert cache.check_output(FILES) == before


@pytest.mark.parametrize("extra_vars, message", [
    ({"redis_baseline_bind_addresses": ["0.0.0.0"]}, "redis_baseline_bind_addresses"),
    ({"redis_baseline_maxmemory": "lots"}, "redis_baseline_maxmemory"),
    ({"redis_baseline_app_commands": ["+@all; FLUSHALL"]}, "redis_baseline_app_commands"),
    ({"erp_baseline_tenants": [{"name": "tenant_a", "redis": {"instance": "own"}}]},
     "erp_baseline_tenants"),
    ({"erp_baseline_tenants": [{"name": "tenant_a", "redis": {"instance": "dedicated"}}]},
     "redis.port and redis.tls_port"),
])
def test_bad_input_fails_with_the_variable_named_and_changes_nothing(cache, extra_vars,
                                                                     message):
    before = cache.check_output(FILES)
    result = run_playbook(SCENARIO / "converge.yml", extra_vars=extra_vars)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and message in output, output[-3000:]
    assert cache.check_output(FILES) == before
