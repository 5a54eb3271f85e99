# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""redis_acl against the session's real Redis 7, checked with redis-py as each user."""

from __future__ import annotations

import json

import pytest
import redis
from redis_servers import ADMIN, ADMIN_PASSWORD, REQUIREPASS, sha256

A_PASSWORD = "Tenant-A-Secret-1"
B_PASSWORD = "Tenant-B-Secret-2"
NOAUTH = "-NOAUTH Authentication required."
APP_COMMANDS = ["+@all", "-@dangerous", "-@admin", "-keys", "-scan"]


def tenant_user(tenant, password, **extra):
    user = dict(name=tenant + "_app", passwords=[password], keys=[tenant + ":*"],
                channels=[tenant + ":*"], commands=list(APP_COMMANDS))
    user.update(extra)
    return user


TENANT_A = tenant_user("tenant_a", A_PASSWORD)
TENANT_B = tenant_user("tenant_b", B_PASSWORD)


def ok(result):
    assert not result.get("failed"), result.get("msg", result)
    return result


def statuses(result):
    return {item["id"]: item["status"] for item in result["findings"]}


def warnings_of(result):
    """The warnings as one text, whatever shape this ansible-core gives each of them."""
    return json.dumps(result.get("warnings", []))


def as_user(server, name, password):
    """A client logged in as the user; AUTH happens with its first command."""
    return server.client(name, password)


def test_exact_users_are_created_confined_and_the_rerun_changes_nothing(acl_server, module):
    args = acl_server.login(users=[TENANT_A, TENANT_B])
    first = ok(module("redis_acl", args))
    assert first["changed"] is True
    assert first["users_changed"] == ["default", "tenant_a_app", "tenant_b_app"]
    assert first["persisted"] == "aclfile"
    stored = acl_server.getuser("tenant_a_app")
    assert stored["passwords"] == [sha256(A_PASSWORD)] and stored["enabled"]
    assert stored["keys"] == ["~tenant_a:*"] and stored["channels"] == ["&tenant_a:*"]
    tenant_a = as_user(acl_server, "tenant_a_app", A_PASSWORD)
    tenant_a.set("tenant_a:greeting", "hello")
    assert tenant_a.get("tenant_a:greeting") == "hello"
    for denied in (lambda: tenant_a.get("tenant_b:greeting"),
                   lambda: tenant_a.publish("tenant_b:events", "x"),
                   tenant_a.flushall, lambda: tenant_a.keys("*"),
                   lambda: tenant_a.config_get("maxmemory")):
        with pytest.raises(redis.exceptions.NoPermissionError):
            denied()
    saved = acl_server.aclfile.read_text()
    assert "user tenant_a_app on" in saved and "user default off" in saved
    second = ok(module("redis_acl", args))
    assert second["changed"] is False
    assert second["users_changed"] == [] and second["commands"] == []
    assert set(statuses(second).values()) == {"pass"}


def test_read_and_write_only_patterns_and_channels_hold_for_the_user(acl_server, module):
    reporting = dict(name="reporting", passwords=[A_PASSWORD], read_keys=["tenant_a:*"],
                     write_keys=["inbox:*"], channels=["reports:*"],
                     commands=["+get", "+set", "+publish"])
    args = acl_server.login(users=[reporting])
    ok(module("redis_acl", args))
    assert sorted(acl_server.getuser("reporting")["keys"]) == ["%R~tenant_a:*", "%W~inbox:*"]
    user = as_user(acl_server, "reporting", A_PASSWORD)
    assert user.get("tenant_a:x") is None
    user.set("inbox:x", "1")
    user.publish("reports:daily", "done")
    for denied in (lambda: user.set("tenant_a:x", "1"), lambda: user.get("inbox:x"),
                   lambda: user.publish("tenant_a:events", "x"), user.ping):
        with pytest.raises(redis.exceptions.NoPermissionError):
            denied()
    assert ok(module("redis_acl", args))["changed"] is False


def test_additive_adds_what_is_missing_and_exact_then_removes_the_rest(acl_server, module):
    old_password = "Legacy-Secret-0"
    acl_server.admin().execute_command("ACL SETUSER", "tenant_a_app", "on",
                                       "#" + sha256(old_password), "~legacy:*", "-@all",
                                       "+get")
    declared = dict(name="tenant_a_app", passwords=[A_PASSWORD], keys=["tenant_a:*"],
                    commands=["+set"])
    args = acl_server.login(users=[declared], rules_mode="additive")
    first = ok(module("redis_acl", args))
    assert "tenant_a_app" in first["users_changed"]
    stored = acl_server.getuser("tenant_a_app")
    assert sorted(stored["passwords"]) == sorted([sha256(old_password), sha256(A_PASSWORD)])
    assert sorted(stored["keys"]) == ["~legacy:*", "~tenant_a:*"]
    tenant_a = as_user(acl_server, "tenant_a_app", old_password)
    tenant_a.set("tenant_a:x", "1")
    assert tenant_a.get("legacy:x") is None
    assert ok(module("redis_acl", args))["changed"] is False
    ok(module("redis_acl", dict(args, rules_mode="exact")))
    stored = acl_server.getuser("tenant_a_app")
    assert stored["passwords"] == [sha256(A_PASSWORD)] and stored["keys"] == ["~tenant_a:*"]
    with pytest.raises(redis.exceptions.AuthenticationError):
        as_user(acl_server, "tenant_a_app", old_password).ping()
    with pytest.raises(redis.exceptions.NoPermissionError):
        as_user(acl_server, "tenant_a_app", A_PASSWORD).get("tenant_a:x")


def test_prune_removes_undeclared_users_and_keeps_protected_ones(acl_server, module):
    admin = acl_server.admin()
    for name in ("stray_user", "keep_me"):
        admin.execute_command("ACL SETUSER", name, "on", ">Stray-Secret-5", "~*", "+get")
    kept = ok(module("redis_acl", acl_server.login(users=[TENANT_A])))
    assert kept["users_removed"] == []
    assert statuses(kept)["GW-REDIS-012"] == "skipped"
    args = acl_server.login(users=[TENANT_A], prune=True, protected_users=["keep_me"])
    pruned = ok(module("redis_acl", args))
    assert pruned["users_removed"] == ["stray_user"]
    assert sorted(admin.acl_users()) == sorted([ADMIN, "default", "keep_me", "tenant_a_app"])
    assert ok(module("redis_acl", args))["changed"] is False


def test_a_disabled_user_cannot_log_in_and_enabling_lets_it_back(acl_server, module):
    ok(module("redis_acl", acl_server.login(users=[dict(TENANT_A, enabled=False)])))
    assert "off" in acl_server.getuser("tenant_a_app")["flags"]
    with pytest.raises(redis.exceptions.AuthenticationError):
        as_user(acl_server, "tenant_a_app", A_PASSWORD).ping()
    enabled = ok(module("redis_acl", acl_server.login(users=[TENANT_A])))
    assert enabled["users_changed"] == ["tenant_a_app"]
    as_user(acl_server, "tenant_a_app", A_PASSWORD).ping()


def test_a_rotated_password_replaces_the_old_one(acl_server, module):
    new_password = "Tenant-A-Rotated-3"
    ok(module("redis_acl", acl_server.login(users=[TENANT_A])))
    rotated = ok(module("redis_acl", acl_server.login(
        users=[dict(TENANT_A, passwords=[new_password])]), diff=True))
    assert rotated["users_changed"] == ["tenant_a_app"]
    assert "<hash>" in rotated["diff"]["before"] and "<new-hash>" in rotated["diff"]["after"]
    with pytest.raises(redis.exceptions.AuthenticationError):
        as_user(acl_server, "tenant_a_app", A_PASSWORD).ping()
    as_user(acl_server, "tenant_a_app", new_password).ping()
    for secret in (A_PASSWORD, new_password, sha256(A_PASSWORD), sha256(new_password)):
        assert secret not in rotated["_raw"]


def test_a_hashed_password_is_stored_as_given(acl_server, module):
    given = "#" + sha256(A_PASSWORD).upper()
    first = ok(module("redis_acl", acl_server.login(users=[dict(TENANT_A, passwords=[given])])))
    assert "tenant_a_app" in first["users_changed"]
    assert acl_server.getuser("tenant_a_app")["passwords"] == [sha256(A_PASSWORD)]
    as_user(acl_server, "tenant_a_app", A_PASSWORD).ping()
    # The plaintext and the hash of it are the same password: nothing to change.
    assert ok(module("redis_acl", acl_server.login(users=[TENANT_A])))["changed"] is False


def test_check_mode_predicts_the_real_run_exactly_and_changes_nothing(acl_server, module):
    acl_server.admin().execute_command("ACL SETUSER", "stray_user", "on", "nopass", "~*",
                                       "+@all")
    args = acl_server.login(users=[TENANT_A, dict(TENANT_B, enabled=False)], prune=True)
    before, saved = acl_server.acl_list(), acl_server.aclfile.read_text()
    predicted = ok(module("redis_acl", args, check=True, diff=True))
    assert acl_server.acl_list() == before and acl_server.aclfile.read_text() == saved
    real = ok(module("redis_acl", args, diff=True))
    for key in ("changed", "users_changed", "users_removed", "persisted", "commands",
                "findings", "diff"):
        assert predicted[key] == real[key], key
    assert set(statuses(real).values()) == {"fixed"}
    assert ok(module("redis_acl", args, check=True))["changed"] is False


def test_the_plaintext_never_leaves_the_module(acl_server, module):
    default_password = "Default-User-Secret-6"
    args = acl_server.login(users=[TENANT_A], default_user=dict(
        state="password", passwords=[default_password]))
    runs = [module("redis_acl", args, check=True, diff=True),
            module("redis_acl", args, diff=True), module("redis_acl", args, diff=True),
            module("redis_acl", dict(args, users=[dict(TENANT_A, commands=["+nosuch"])]))]
    assert [run.get("failed", False) for run in runs] == [False, False, False, True]
    for run in runs:
        for secret in (A_PASSWORD, default_password, ADMIN_PASSWORD):
            assert secret not in run["_raw"]
            assert sha256(secret) not in run["_raw"]


def test_an_invalid_rule_is_refused_with_redis_message_and_no_user_is_changed(acl_server,
                                                                              module):
    before = acl_server.acl_list()
    unknown = acl_server.login(users=[TENANT_B, dict(TENANT_A, commands=["+@read",
                                                                         "+nosuchcommand"])])
    refused = module("redis_acl", unknown)
    assert refused.get("failed")
    assert "Unknown command or category name in ACL" in refused["msg"]
    assert "tenant_a_app" in refused["msg"] and "no user was changed" in refused["msg"]
    after_all_keys = acl_server.login(users=[TENANT_B, dict(TENANT_A, keys=["*", "a:*"])])
    refused = module("redis_acl", after_all_keys)
    assert refused.get("failed") and "Adding a pattern after the * pattern" in refused["msg"]
    predicted = module("redis_acl", unknown, check=True)
    assert predicted.get("failed") and "'+nosuchcommand'" in predicted["msg"]
    assert acl_server.acl_list() == before
    assert acl_server.unauthenticated_ping() == "+PONG"


def test_c11_default_user_ends_explicit_and_unauthenticated_clients_get_noauth(acl_server,
                                                                               module):
    # The aclfile has no default line and requirepass is set: Redis ignores requirepass.
    assert acl_server.unauthenticated_ping() == "+PONG"
    args = acl_server.login(users=[TENANT_A])
    result = ok(module("redis_acl", args))
    assert "default" in result["users_changed"]
    assert "requirepass" in warnings_of(result)
    assert acl_server.unauthenticated_ping() == NOAUTH
    with pytest.raises(redis.exceptions.AuthenticationError):
        acl_server.client("default", REQUIREPASS).ping()
    assert "user default off" in acl_server.aclfile.read_text()
    acl_server.admin().execute_command("ACL LOAD")
    assert acl_server.unauthenticated_ping() == NOAUTH
    assert ok(module("redis_acl", args))["changed"] is False


def test_a_default_user_with_a_password_needs_it_and_may_run_nothing(acl_server, module):
    default_password = "Default-User-Secret-6"
    args = acl_server.login(default_user=dict(state="password",
                                              passwords=[default_password]))
    ok(module("redis_acl", args))
    assert acl_server.unauthenticated_ping() == NOAUTH
    as_default = acl_server.client(None, default_password)
    with pytest.raises(redis.exceptions.NoPermissionError):
        as_default.get("tenant_a:x")
    assert "user default on sanitize-payload #" in acl_server.aclfile.read_text()
    assert ok(module("redis_acl", args))["changed"] is False


def test_a_fresh_server_is_bootstrapped_logged_in_as_default(acl_server, module):
    root_password = "Root-Admin-Secret-8"
    root = dict(name="gw_root", passwords=["#" + sha256(root_password)], keys=["*"],
                channels=["*"], commands=["+@all"])
    acl_server.admin().execute_command("ACL SETUSER", "stray_user", "on", "nopass", "+@all")
    args = acl_server.login(login_user=None, login_password=None, users=[root, TENANT_A],
                            prune=True, protected_users=[ADMIN])
    result = ok(module("redis_acl", args))
    assert result["users_removed"] == ["stray_user"]
    assert result["commands"][-2:] == ["ACL SETUSER default reset off resetchannels",
                                       "ACL SAVE"]
    assert "log in as gw_root" in warnings_of(result)
    assert acl_server.unauthenticated_ping() == NOAUTH
    as_user(acl_server, "gw_root", root_password).ping()
    # The hand-over password is gone, from the server and from the aclfile.
    assert acl_server.getuser("gw_root")["passwords"] == [sha256(root_password)]
    line = [item for item in acl_server.aclfile.read_text().splitlines()
            if item.startswith("user gw_root ")][0]
    assert line.count("#") == 1 and "user default off" in acl_server.aclfile.read_text()
    again = dict(args, login_user="gw_root", login_password=root_password)
    assert ok(module("redis_acl", again))["changed"] is False


def test_a_run_that_would_lock_the_module_out_is_refused(acl_server, module):
    before = acl_server.acl_list()
    as_default = module("redis_acl", acl_server.login(login_user=None, login_password=None,
                                                      users=[TENANT_A]))
    assert as_default.get("failed") and "would lose the rights" in as_default["msg"]
    no_password = module("redis_acl", acl_server.login(users=[dict(
        name=ADMIN, keys=["*"], channels=["*"], commands=["+@all"])]))
    assert no_password.get("failed") and "without a password" in no_password["msg"]
    assert acl_server.acl_list() == before


def test_keep_passwords_and_the_password_state_for_the_action_plugin(acl_server, module):
    ok(module("redis_acl", acl_server.login(users=[TENANT_A])))
    state = ok(module("redis_acl", acl_server.login(users_state_only=True)))
    assert state["changed"] is False
    assert state["users_with_password"] == [ADMIN, "tenant_a_app"]
    kept = ok(module("redis_acl", acl_server.login(users=[dict(
        TENANT_A, passwords=[], keep_passwords=True, keys=["tenant_a:*", "shared:*"])])))
    assert kept["users_changed"] == ["tenant_a_app"]
    as_user(acl_server, "tenant_a_app", A_PASSWORD).get("shared:x")


def test_500_users_are_written_in_one_transaction_and_the_rerun_changes_nothing(acl_server,
                                                                                module):
    users = [tenant_user("t%03d" % number, "#" + sha256("secret-%d" % number))
             for number in range(500)]
    args = acl_server.login(users=users, prune=True)
    first = ok(module("redis_acl", args))
    assert len(first["users_changed"]) == 501
    assert len(acl_server.admin().acl_users()) == 502
    stored = acl_server.getuser("t377_app")
    assert stored["keys"] == ["~t377:*"] and stored["passwords"] == [sha256("secret-377")]
    as_user(acl_server, "t499_app", "secret-499").set("t499:x", "1")
    second = ok(module("redis_acl", args))
    assert second["changed"] is False and second["commands"] == []


def test_users_are_persisted_in_the_config_file_without_an_aclfile(redis_factory, module):
    server = redis_factory({"user": "%s on #%s ~* &* +@all" % (ADMIN, sha256(ADMIN_PASSWORD))})
    args = server.login(users=[TENANT_A])
    refused = module("redis_acl", dict(args, persist="aclfile"))
    assert refused.get("failed") and "no aclfile" in refused["msg"]
    result = ok(module("redis_acl", args))
    assert result["persisted"] == "rewrite" and result["commands"][-1] == "CONFIG REWRITE"
    assert "user default off" in server.config.read_text()
    server.restart()
    assert server.unauthenticated_ping() == NOAUTH
    as_user(server, "tenant_a_app", A_PASSWORD).ping()
    assert ok(module("redis_acl", args))["changed"] is False


def test_rewrite_is_refused_where_an_aclfile_holds_the_users(acl_server, module):
    refused = module("redis_acl", acl_server.login(users=[TENANT_A], persist="rewrite"))
    assert refused.get("failed") and "CONFIG REWRITE does not write" in refused["msg"]
    assert acl_server.unauthenticated_ping() == "+PONG"


def test_persist_none_changes_the_users_and_leaves_the_file_alone(acl_server, module):
    saved = acl_server.aclfile.read_text()
    result = ok(module("redis_acl", acl_server.login(users=[TENANT_A], persist="none")))
    assert result["persisted"] == "none" and "ACL SAVE" not in result["commands"]
    assert statuses(result)["GW-REDIS-013"] == "skipped"
    assert acl_server.aclfile.read_text() == saved
    assert acl_server.getuser("tenant_a_app")["enabled"]


def test_an_aclfile_that_lost_the_default_user_is_saved_again(acl_server, module):
    args = acl_server.login(users=[TENANT_A])
    ok(module("redis_acl", args))
    edited = [line for line in acl_server.aclfile.read_text().splitlines(True)
              if not line.startswith("user default ")]
    acl_server.aclfile.write_text("".join(edited))
    predicted = ok(module("redis_acl", args, check=True))
    assert predicted["changed"] is True and predicted["users_changed"] == []
    saved = ok(module("redis_acl", args))
    assert saved["changed"] is True and saved["persisted"] == "aclfile"
    assert statuses(saved)["GW-REDIS-013"] == "fixed"
    assert "user default off" in acl_server.aclfile.read_text()
    assert ok(module("redis_acl", args))["changed"] is False


def test_audit_mode_reports_the_differences_and_changes_nothing(acl_server, module):
    before, saved = acl_server.acl_list(), acl_server.aclfile.read_text()
    result = ok(module("redis_acl", acl_server.login(users=[TENANT_A], audit=True)))
    assert result["changed"] is False and result["users_changed"] == [
        "default", "tenant_a_app"]
    assert statuses(result) == {"GW-REDIS-010": "fail", "GW-REDIS-011": "fail",
                                "GW-REDIS-012": "pass", "GW-REDIS-013": "fail"}
    assert acl_server.acl_list() == before and acl_server.aclfile.read_text() == saved


def test_the_unix_socket_and_tls_with_a_client_certificate_work(acl_server, module):
    tls = acl_server.tls_folder
    by_socket = acl_server.login(login_unix_socket=acl_server.socket, users=[TENANT_A])
    assert ok(module("redis_acl", by_socket, check=True))["changed"] is True
    over_tls = acl_server.login(login_port=acl_server.tls_port, tls=True,
                                ca_cert=str(tls / "ca.crt"),
                                client_cert=str(tls / "client.crt"),
                                client_key=str(tls / "client.key"), users=[TENANT_A])
    assert ok(module("redis_acl", over_tls))["users_changed"] == ["default", "tenant_a_app"]
    without_certificate = dict(over_tls, client_cert=None, client_key=None)
    assert module("redis_acl", without_certificate).get("failed")


@pytest.mark.parametrize("users, message", [
    ([dict(name="default")], "default_user"),
    ([dict(name="twice"), dict(name="twice")], "more than once"),
    ([dict(name="x", commands=["on"])], "not a command rule"),
    ([dict(name="x", commands=["+select|0"])], "first argument"),
])
def test_bad_input_fails_before_anything_changes(acl_server, module, users, message):
    before = acl_server.acl_list()
    result = module("redis_acl", acl_server.login(users=users))
    assert result.get("failed") and message in result["msg"]
    assert acl_server.acl_list() == before
