# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SCRAM-SHA-256 verifiers for PostgreSQL, computed on the controller.

The verifier is what PostgreSQL stores in pg_authid; sending it instead of the
password keeps the plaintext off the database host and out of its logs. Deriving it
with the salt and iteration count the server already holds gives the stored value
back when the password has not changed, which is how re-runs compare.
"""

from __future__ import annotations

import base64
import os
import re

try:
    from scramp import ScramMechanism
except ImportError:
    ScramMechanism = None

# What PostgreSQL 15 uses when it computes a verifier itself (scram_iterations came in 16).
DEFAULT_ITERATIONS = 4096
SALT_BYTES = 16  # as PostgreSQL draws them
VERIFIER = re.compile(r"^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$")


class ScramError(Exception):
    pass


def is_verifier(value):
    return bool(VERIFIER.match(value or ""))


def verifier(password, iterations=None, salt=None):
    """The PostgreSQL SCRAM-SHA-256 verifier of ``password``.

    ``salt`` is the base64 text of a stored verifier's salt; without it a random salt is
    drawn, as PostgreSQL does for a new password.
    """
    if ScramMechanism is None:
        raise ScramError("computing SCRAM verifiers needs the Python package scramp on the "
                         "controller (pip install scramp)")
    raw_salt = base64.b64decode(salt) if salt else os.urandom(SALT_BYTES)
    salt_bytes, stored_key, server_key, count = ScramMechanism("SCRAM-SHA-256").make_auth_info(
        password, iteration_count=iterations or DEFAULT_ITERATIONS, salt=raw_salt)
    return "SCRAM-SHA-256$%d:%s$%s:%s" % (count, _b64(salt_bytes), _b64(stored_key),
                                          _b64(server_key))


def password_verifier(password, state):
    """The verifier to send for ``password`` given the role's stored password state.

    A ready verifier is sent as it is. A plaintext password is derived with the stored
    salt when the server holds a SCRAM verifier, otherwise with a new salt.
    """
    if is_verifier(password):
        return password
    state = state or {}
    return verifier(password, state.get("iterations"), state.get("salt"))


def _b64(data):
    return base64.b64encode(data).decode("ascii")
