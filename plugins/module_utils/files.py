# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""File edits shared by the modules: read, compare, write atomically, back up, restore.

Every write goes through a temporary file in the same directory and a rename, so a
reader never sees half a file, and the previous content is kept as a backup that a
failed check can restore.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import tempfile
import time


def read_text(path):
    """Return the file's text, or None when it does not exist."""
    try:
        with open(path, "r", encoding="utf-8", errors="surrogateescape") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def file_state(path):
    """Return (mode, owner name, group name) of a path, or None when it does not exist."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    return stat.S_IMODE(info.st_mode), _user_name(info.st_uid), _group_name(info.st_gid)


def write_text(path, content, mode=0o644, owner="root", group="root", backup=True):
    """Write content atomically with the given mode and owner.

    Returns the path of the backup of the previous file, or None when there was none.
    """
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    backup_path = make_backup(path) if backup else None
    handle, temp_path = tempfile.mkstemp(dir=directory, prefix=".gw-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", errors="surrogateescape") as temp:
            temp.write(content)
        os.chmod(temp_path, mode)
        os.chown(temp_path, pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid)
        os.rename(temp_path, path)
    except BaseException:
        if os.path.exists(temp_path):
            os.unlink(temp_path)
        raise
    return backup_path


def make_backup(path):
    """Copy an existing file beside itself with a time stamp; return the copy's path."""
    if not os.path.exists(path):
        return None
    backup_path = "%s.%s.gw-backup" % (path, time.strftime("%Y%m%dT%H%M%S"))
    shutil.copy2(path, backup_path)
    return backup_path


def restore(path, backup_path):
    """Put a backup back in place, or remove the file when there was none before."""
    if backup_path:
        shutil.copy2(backup_path, path)
    elif os.path.exists(path):
        os.unlink(path)


def ensure_state(path, mode, owner="root", group="root"):
    """Set mode and owner of an existing path; return True when something changed."""
    current = file_state(path)
    if current is None or current == (mode, owner, group):
        return False
    os.chmod(path, mode)
    os.chown(path, pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid)
    return True


def state_text(state):
    """Render (mode, owner, group) the way ls and the reports show it."""
    if state is None:
        return "missing"
    mode, owner, group = state
    return "%04o %s:%s" % (mode, owner, group)


def _user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group_name(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


class OwnedFiles(object):
    """Whole files a module owns: compared, written only when different, diffed.

    ``changed`` lists every path that differed, in check and audit mode too, so that
    modules report what a real run would change.
    """

    def __init__(self, dry_run):
        self.dry_run = dry_run
        self.changed = []
        self.diff = {"before": "", "after": ""}

    def sync(self, path, content, mode=0o644, owner="root", group="root"):
        """Bring one file to ``content``; return True when it was already right."""
        current = read_text(path)
        if current == content and file_state(path) == (mode, owner, group):
            return True
        self.changed.append(path)
        self.diff["before"] += "# %s\n%s" % (path, current or "")
        self.diff["after"] += "# %s\n%s" % (path, content)
        if not self.dry_run:
            write_text(path, content, mode, owner, group)
        return False
