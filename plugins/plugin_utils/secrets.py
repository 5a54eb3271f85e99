# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tenant secrets on the controller: given ones win, others are generated once.

A secret given in ``erp_baseline_secrets.<tenant>.<name>`` (Ansible Vault, an AWX
credential) is used as it is. Otherwise the secret is read from
``<secrets_dir>/<tenant>/<name>``; only a caller that knows the secret is not set on
the target yet may create that file, so a run from another checkout never rotates a
password that is already in use.
"""

from __future__ import annotations

import errno
import os
import secrets as random_source

DIR_MODE = 0o700
FILE_MODE = 0o600
GENERATED_BYTES = 24  # 32 URL-safe characters


class SecretError(Exception):
    """A secret that is wrong in the inventory or cannot be kept on the controller."""


def given_secret(given, tenant, name):
    """The secret from erp_baseline_secrets, or None when it is not given there."""
    value = ((given or {}).get(tenant) or {}).get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise SecretError(
            "erp_baseline_secrets.%s.%s must be a non-empty string" % (tenant, name))
    return value


def secret_path(secrets_dir, tenant, name):
    return os.path.join(secrets_dir, tenant, name)


def stored_secret(secrets_dir, tenant, name):
    """The secret kept in the secrets folder, or None when there is none yet."""
    path = secret_path(secrets_dir, tenant, name)
    try:
        with open(path, "r", encoding="utf-8") as handle:
            value = handle.read().strip()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise SecretError("cannot read %s: %s" % (path, error.strerror)) from None
    if not value:
        raise SecretError("%s is empty: remove it or put the secret in it" % path)
    return value


def create_secret(secrets_dir, tenant, name):
    """Generate a secret and keep it; an existing file is read, never overwritten."""
    path = secret_path(secrets_dir, tenant, name)
    # The folders above the secrets folder are the user's; only those below are private.
    os.makedirs(os.path.dirname(os.path.abspath(secrets_dir)), exist_ok=True)
    for directory in (secrets_dir, os.path.dirname(path)):
        _make_private_dir(directory)
    value = random_source.token_urlsafe(GENERATED_BYTES)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return stored_secret(secrets_dir, tenant, name)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


def _make_private_dir(directory):
    try:
        os.mkdir(directory, DIR_MODE)
    except OSError as error:
        if error.errno != errno.EEXIST:
            raise SecretError("cannot create %s: %s" % (directory, error.strerror)) from None
    if os.stat(directory).st_mode & 0o077:
        os.chmod(directory, DIR_MODE)


def resolve_secret(given, secrets_dir, tenant, name, may_create):
    """The secret to use, or None when it is neither given nor kept and may not be made.

    ``may_create`` is True only when the target holds no secret yet (a new account), so
    generating one cannot cut off a client that uses the current one.
    """
    value = given_secret(given, tenant, name)
    if value is not None:
        return value
    value = stored_secret(secrets_dir, tenant, name)
    if value is not None or not may_create:
        return value
    return create_secret(secrets_dir, tenant, name)
