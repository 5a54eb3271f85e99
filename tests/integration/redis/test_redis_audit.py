# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""redis_audit against a deliberately weak and a hardened Redis 7, both on loopback."""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys

import pytest
import yaml
from ansible_collections.groundwork.erp_baseline.plugins.module_utils import redis_acl
from ansible_collections.groundwork.erp_baseline.plugins.modules import redis_audit
from redis_servers import ADMIN, ADMIN_LINE, WEAK_PASSWORD, WEAK_USER, user_line

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
MODULES = REPO_ROOT / "plugins" / "modules"
CONTROLS = ["GW-REDIS-%03d" % number for number in range(20, 30)]
APP_PASSWORD = "Hardened-App-Secret-1"
APP_RULES = "~tenant_a:* resetchannels &tenant_a:* +@all -@dangerous -@admin -keys -scan"


def statuses(result):
    assert not result.get("failed"), result.get("msg")
    return {item["id"]: item["status"] for item in result["findings"]}


def by_id(result, control_id):
    return [item for item in result["findings"] if item["id"] == control_id][0]


def weak_login(server, **extra):
    return server.login(login_user=WEAK_USER, login_password=WEAK_PASSWORD, **extra)


@pytest.fixture(scope="module")
def hardened(redis_factory):
    """Protected mode, loopback only, default off, a confined app user, a memory limit,
    RDB snapshots, no requirepass, and files closed to other users."""
    server = redis_factory({"protected-mode": "yes", "maxmemory": "64mb", "save": "3600 1"},
                           [ADMIN_LINE, "user default off resetchannels -@all\n",
                            user_line("tenant_a_app", APP_PASSWORD, APP_RULES)])
    os.chmod(server.config, 0o600)
    os.chmod(server.aclfile, 0o600)
    os.chmod(server.data, 0o700)
    return server


def test_a_weak_server_fails_every_control_it_breaks(weak_redis, module):
    result = module("redis_audit", weak_login(weak_redis, expect_persistence=True))
    assert statuses(result) == {
        "GW-REDIS-020": "fail", "GW-REDIS-021": "pass", "GW-REDIS-022": "fail",
        "GW-REDIS-023": "fail", "GW-REDIS-024": "fail", "GW-REDIS-025": "pass",
        "GW-REDIS-026": "fail", "GW-REDIS-027": "fail", "GW-REDIS-028": "fail",
        "GW-REDIS-029": "fail"}
    assert by_id(result, "GW-REDIS-022")["observed"] == "default"
    assert by_id(result, "GW-REDIS-023")["observed"] == "default, %s" % WEAK_USER
    dangerous = by_id(result, "GW-REDIS-024")["observed"]
    assert "%s (flushall flushdb config|set" % WEAK_USER in dangerous
    assert "migrate" in dangerous
    files = by_id(result, "GW-REDIS-028")["observed"]
    assert "config file %s 0644" % weak_redis.config in files
    assert "data directory %s 0777" % weak_redis.data in files
    assert "aclfile %s 0644" % weak_redis.aclfile in files
    assert "requirepass set" in by_id(result, "GW-REDIS-029")["observed"]
    assert "Ignored-Requirepass" not in result["_raw"] and WEAK_PASSWORD not in result["_raw"]


def test_a_hardened_server_passes_every_control(hardened, module):
    result = module("redis_audit", hardened.login(admin_users=[ADMIN],
                                                  expect_persistence=True))
    assert set(statuses(result).values()) == {"pass"}, result["findings"]
    assert by_id(result, "GW-REDIS-024")["observed"] == "application users checked: 1"


def test_the_audit_changes_nothing_and_check_mode_reports_the_same(weak_redis, module):
    admin = weak_redis.client(WEAK_USER, WEAK_PASSWORD)
    before = (sorted(admin.execute_command("ACL LIST")), admin.config_get("*"),
              weak_redis.aclfile.read_text(), weak_redis.config.read_text())
    real = module("redis_audit", weak_login(weak_redis))
    checked = module("redis_audit", weak_login(weak_redis), check=True)
    assert real["changed"] is False and checked["findings"] == real["findings"]
    assert before == (sorted(admin.execute_command("ACL LIST")), admin.config_get("*"),
                      weak_redis.aclfile.read_text(), weak_redis.config.read_text())


def test_dryrun_and_the_rule_evaluation_for_older_servers_agree(hardened):
    admin = hardened.client()
    rules = {"gw_probe_readonly": ["-@all", "+@read", "-keys"],
             "gw_probe_config": ["-@all", "+config", "-config|get"],
             "gw_probe_subtracted": ["+@all", "-@dangerous", "+flushdb", "-migrate"],
             "gw_probe_categories": ["-@all", "+@keyspace", "+@admin", "-@slow"]}
    try:
        for name, commands in rules.items():
            admin.execute_command("ACL SETUSER", name, "reset", "on", "nopass", "~*",
                                  *commands)
        users = [user for user in redis_acl.parse_acl_list(
            admin.execute_command("ACL LIST")).values() if user.name in rules]
        asked = redis_audit.dangerous_rights(admin, users)
        assert asked == redis_audit.rights_from_rules(admin, users)
        assert asked["gw_probe_config"] == ["config|set"]
        assert "gw_probe_readonly" not in asked
    finally:
        admin.execute_command("ACL DELUSER", *rules)


@pytest.mark.parametrize("bind, everywhere, beyond_loopback", [
    ("127.0.0.1 -::1", False, False),
    ("* -::*", True, True),
    ("0.0.0.0", True, True),
    ("", True, True),
    ("127.0.0.1 192.0.2.10", False, True),
])
def test_bind_settings_are_classified(bind, everywhere, beyond_loopback):
    assert redis_audit.binds_everywhere(bind) is everywhere
    assert redis_audit.beyond_loopback(bind) is beyond_loopback


def test_a_server_that_does_not_answer_gives_unknown_findings(module):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    result = module("redis_audit", dict(login_port=closed_port, connect_timeout=2))
    assert statuses(result) == {control_id: "unknown" for control_id in CONTROLS}
    assert "could not connect" in result["findings"][0]["reason"]


def test_without_redis_py_both_modules_name_the_package(tmp_path, python):
    # A stub package that hides this interpreter's redis-py, as on a host without it.
    (tmp_path / "redis").mkdir()
    (tmp_path / "redis" / "__init__.py").write_text("raise ImportError('stub')\n")
    shim = [entry for entry in sys.path if "erp-baseline-shim-" in entry][0]
    arguments = tmp_path / "args.json"
    arguments.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"login_port": 1}}))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), shim]))
    for name in ("redis_audit", "redis_acl"):
        done = subprocess.run([python, str(MODULES / (name + ".py")), str(arguments)],
                              capture_output=True, text=True, env=env, check=False)
        result = json.loads(done.stdout)
        assert result.get("failed") and "python3-redis" in result["msg"], result


def test_the_audit_logs_in_over_tls_with_a_client_certificate(redis_server, module):
    tls = redis_server.tls_folder
    result = module("redis_audit", redis_server.login(
        login_port=redis_server.tls_port, tls=True, ca_cert=str(tls / "ca.crt"),
        client_cert=str(tls / "client.crt"), client_key=str(tls / "client.key")))
    assert "unknown" not in statuses(result).values()


def test_a_login_that_may_not_read_the_settings_gives_unknowns_with_the_reason(hardened,
                                                                              module):
    result = module("redis_audit", hardened.login(login_user="tenant_a_app",
                                                  login_password=APP_PASSWORD))
    found = statuses(result)
    assert found["GW-REDIS-020"] == "unknown" and found["GW-REDIS-022"] == "unknown"
    assert "permission" in by_id(result, "GW-REDIS-020")["reason"]


def test_every_control_the_modules_report_is_in_the_catalog(acl_server, module):
    catalog = yaml.safe_load((REPO_ROOT / "controls" / "catalog.yml").read_text())
    audit = module("redis_audit", acl_server.login())
    users = module("redis_acl", acl_server.login(audit=True))
    reported = set(statuses(audit)) | set(statuses(users))
    assert reported == set(CONTROLS) | {"GW-REDIS-%03d" % number for number in range(10, 14)}
    assert reported <= set(catalog)
