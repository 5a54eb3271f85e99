# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""postgresql_config against the session's real PostgreSQL 15."""

from __future__ import annotations

import os
import time

import pytest


@pytest.fixture
def dropin(postgres):
    yield postgres.dropin
    if postgres.dropin.exists():
        postgres.dropin.unlink()
    postgres.query("SELECT pg_reload_conf()")
    os.chmod(postgres.data, 0o700)


def setting(postgres, name, wanted, seconds=10):
    """The value in force, waiting for the asynchronous reload to reach new sessions."""
    deadline = time.monotonic() + seconds
    while True:
        value = postgres.query("SELECT setting FROM pg_settings WHERE name = %s", (name,))[0][0]
        if value == wanted or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def args(postgres, settings, **extra):
    return postgres.login(path=str(postgres.dropin), settings=settings, controls={
        "GW-PG-004": sorted(settings)}, **extra)


def test_settings_are_written_reloaded_and_settle(postgres, module, dropin):
    wanted = {"log_connections": True, "statement_timeout": "10min",
              "log_line_prefix": "%m [%p] user=%u db=%d client=%h "}
    first = module("postgresql_config", args(postgres, wanted))
    assert first["changed"] and first["restart_required"] == [], first
    assert "statement_timeout = '10min'" in dropin.read_text()
    assert setting(postgres, "statement_timeout", "600000") == "600000"
    assert setting(postgres, "log_connections", "on") == "on"
    second = module("postgresql_config", args(postgres, wanted))
    assert second["changed"] is False, second
    assert [f["status"] for f in second["findings"] if f["id"] == "GW-PG-004"] == ["pass"]


def test_check_mode_and_audit_mode_write_nothing(postgres, module, dropin):
    wanted = {"log_disconnections": "on"}
    predicted = module("postgresql_config", args(postgres, wanted), check=True, diff=True)
    assert predicted["changed"] and "log_disconnections" in predicted["diff"]["after"]
    audit = module("postgresql_config", args(postgres, wanted, mode="audit"))
    assert audit["changed"] is False
    assert [f["status"] for f in audit["findings"] if f["id"] == "GW-PG-004"] == ["fail"]
    assert not dropin.exists()


def test_a_setting_that_needs_a_restart_is_returned_for_the_handler(postgres, module, dropin):
    result = module("postgresql_config", args(postgres, {"max_connections": "120"}))
    assert result.get("restart_required") == ["max_connections"], result


def test_a_value_the_server_refuses_fails_before_writing(postgres, module, dropin):
    result = module("postgresql_config", args(postgres, {"statement_timeout": "ten"}))
    assert result["failed"] and "statement_timeout" in result["msg"]
    assert not dropin.exists()


def test_a_file_the_server_cannot_parse_is_restored(postgres, module, dropin):
    module("postgresql_config", args(postgres, {"log_connections": "on"}))
    before = dropin.read_text()
    # Only the server's file parser sees this one: the setting cannot be SET in a session.
    result = module("postgresql_config", args(postgres, {"log_connections": "on",
                                                         "max_connections": "lots"}))
    assert result["failed"] and "restored" in result["msg"] and "max_connections" in result["msg"]
    assert dropin.read_text() == before


def test_an_unknown_setting_is_refused(postgres, module, dropin):
    result = module("postgresql_config", args(postgres, {"no_such_setting": "1"}))
    assert result["failed"] and "no_such_setting" in result["msg"]
    assert not dropin.exists()


def test_the_data_directory_is_closed_and_checksums_reported(postgres, module, dropin):
    os.chmod(postgres.data, 0o750)
    result = module("postgresql_config", args(postgres, {"log_connections": "on"}))
    by_id = {f["id"]: f for f in result["findings"]}
    assert by_id["GW-PG-008"]["status"] == "fixed"
    assert oct(os.stat(postgres.data).st_mode & 0o777) == "0o700"
    # initdb ran without --data-checksums: reported with what it takes, not changed.
    assert by_id["GW-PG-007"]["status"] == "fail" and "pg_checksums" in by_id["GW-PG-007"][
        "reason"]


def test_a_setting_overridden_by_alter_system_fails_on_every_run(postgres, module, dropin):
    wanted = {"log_disconnections": "on"}
    module("postgresql_config", args(postgres, wanted))
    postgres.execute("ALTER SYSTEM SET log_disconnections = off")
    try:
        for _ in range(2):
            result = module("postgresql_config", args(postgres, wanted))
            control = [f for f in result["findings"] if f["id"] == "GW-PG-004"][0]
            assert control["status"] == "fail", control
            assert "log_disconnections" in control["observed"]
            assert "postgresql.auto.conf" in control["observed"]
            assert result["changed"] is False
    finally:
        postgres.execute("ALTER SYSTEM RESET log_disconnections")
        postgres.query("SELECT pg_reload_conf()")
