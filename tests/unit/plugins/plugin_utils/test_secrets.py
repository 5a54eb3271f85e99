# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tenant secrets on the controller: given wins, kept ones are reused, new ones made once."""

from __future__ import annotations

import os
import stat

import pytest
from ansible_collections.groundwork.erp_baseline.plugins.plugin_utils import secrets


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_given_secret_wins_over_the_kept_one(tmp_path):
    (tmp_path / "tenant_a").mkdir()
    (tmp_path / "tenant_a" / "db_app_password").write_text("kept\n")
    given = {"tenant_a": {"db_app_password": "from-vault"}}
    assert secrets.resolve_secret(given, str(tmp_path), "tenant_a", "db_app_password",
                                  may_create=True) == "from-vault"


def test_a_new_secret_is_made_once_with_private_modes(tmp_path):
    folder = tmp_path / ".secrets"
    first = secrets.resolve_secret({}, str(folder), "tenant_a", "db_app_password", True)
    again = secrets.resolve_secret({}, str(folder), "tenant_a", "db_app_password", True)
    assert first == again and len(first) >= 32
    assert mode(folder) == 0o700 and mode(folder / "tenant_a") == 0o700
    assert mode(folder / "tenant_a" / "db_app_password") == 0o600


def test_no_secret_is_made_when_the_target_already_has_one(tmp_path):
    assert secrets.resolve_secret({}, str(tmp_path), "tenant_a", "db_app_password",
                                  may_create=False) is None
    assert not (tmp_path / "tenant_a").exists()


@pytest.mark.parametrize("value", ["", 42])
def test_a_given_secret_that_is_not_a_string_is_refused(tmp_path, value):
    with pytest.raises(secrets.SecretError, match=r"erp_baseline_secrets\.tenant_a\.x"):
        secrets.resolve_secret({"tenant_a": {"x": value}}, str(tmp_path), "tenant_a", "x",
                               True)


def test_an_empty_kept_file_is_an_error_not_a_new_password(tmp_path):
    (tmp_path / "tenant_a").mkdir()
    (tmp_path / "tenant_a" / "x").write_text("\n")
    with pytest.raises(secrets.SecretError, match="is empty"):
        secrets.resolve_secret({}, str(tmp_path), "tenant_a", "x", True)


def test_a_secrets_folder_below_missing_folders_is_made_with_them(tmp_path):
    folder = tmp_path / "not" / "yet" / ".secrets"
    value = secrets.resolve_secret({}, str(folder), "_platform", "redis_admin_password", True)
    assert (folder / "_platform" / "redis_admin_password").read_text().strip() == value
    assert mode(folder) == 0o700 and mode(folder / "_platform") == 0o700
