"""Edits of distribution-owned files and the atomic writes with backups."""

import os

from ansible_collections.groundwork.erp_baseline.plugins.module_utils import files, keyvalue

LOGIN_DEFS = """# comment
PASS_MAX_DAYS\t99999
#PASS_MIN_DAYS 0
UMASK\t\t022
UMASK 077
"""


def test_set_keys_rewrites_in_place_drops_duplicates_and_appends():
    text, old = keyvalue.set_keys(LOGIN_DEFS, {"PASS_MAX_DAYS": "365", "UMASK": "027",
                                               "PASS_MIN_DAYS": "1"})
    assert text == ("# comment\nPASS_MAX_DAYS 365\n#PASS_MIN_DAYS 0\nUMASK 027\n"
                    "PASS_MIN_DAYS 1\n")
    assert old == {"PASS_MAX_DAYS": "99999", "UMASK": "022", "PASS_MIN_DAYS": None}


def test_set_keys_is_idempotent():
    once, _ = keyvalue.set_keys(LOGIN_DEFS, {"UMASK": "027"})
    twice, old = keyvalue.set_keys(once, {"UMASK": "027"})
    assert twice == once and old == {}


def test_equals_separated_files():
    text, old = keyvalue.set_keys("deny = 3\n# unlock_time = 600\n", {"deny": 5}, "=")
    assert text == "deny = 5\n# unlock_time = 600\n"
    assert keyvalue.get_keys(text, ["deny", "unlock_time"], "=") == {"deny": "5",
                                                                     "unlock_time": None}
    assert old == {"deny": "3"}


def test_write_text_backs_up_and_restores(tmp_path):
    path = str(tmp_path / "sshd.conf")
    assert files.write_text(path, "one\n", 0o600, "root", "root") is None
    backup = files.write_text(path, "two\n", 0o600, "root", "root")
    assert files.read_text(path) == "two\n" and files.read_text(backup) == "one\n"
    assert files.file_state(path) == (0o600, "root", "root")
    files.restore(path, backup)
    assert files.read_text(path) == "one\n"


def test_restore_without_backup_removes_the_new_file(tmp_path):
    path = str(tmp_path / "new.conf")
    files.write_text(path, "x\n", backup=False)
    files.restore(path, None)
    assert not os.path.exists(path)


def test_ensure_state_reports_change_once(tmp_path):
    path = tmp_path / "shadow"
    path.write_text("")
    os.chmod(path, 0o644)
    assert files.ensure_state(str(path), 0o640) is True
    assert files.ensure_state(str(path), 0o640) is False
    assert files.state_text(files.file_state(str(path))) == "0640 root:root"
    assert files.state_text(None) == "missing"


def test_flags_are_written_as_bare_keys():
    text, old = keyvalue.set_keys("# enforce_for_root\nminlen = 8\n",
                                  {"enforce_for_root": None, "minlen": "15"}, "=")
    assert text == "# enforce_for_root\nminlen = 15\nenforce_for_root\n"
    again, old_again = keyvalue.set_keys(text, {"enforce_for_root": None, "minlen": "15"}, "=")
    assert again == text and old_again == {}


def test_owned_files_write_once_and_diff(tmp_path):
    path = str(tmp_path / "60-groundwork.conf")
    owned = files.OwnedFiles(dry_run=False)
    assert owned.sync(path, "a = 1\n") is False
    assert owned.sync(path, "a = 1\n") is True
    assert owned.changed == [path]
    assert owned.diff["after"].endswith("a = 1\n")


def test_owned_files_in_dry_run_report_but_do_not_write(tmp_path):
    path = str(tmp_path / "60-groundwork.conf")
    owned = files.OwnedFiles(dry_run=True)
    assert owned.sync(path, "a = 1\n") is False
    assert owned.changed == [path] and not os.path.exists(path)
