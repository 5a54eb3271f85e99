# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of redis_acl: tenant secrets become SHA-256 hashes here.

A user declared with ``password_secret: {tenant, name}`` gets the tenant secret as its
password: given in ``secrets`` (erp_baseline_secrets), or kept in ``secrets_dir``, or
generated there when the user has no password on the server yet. Only the hash
(``#<sha256 hex>``) goes to the host. A user whose password the controller does not
know keeps it, with a warning, rather than being rotated under a running application;
finding that out costs one read-only module call, made only when a secret is unknown.
"""

from __future__ import annotations

import hashlib
import secrets as random_source

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.groundwork.erp_baseline.plugins.plugin_utils import secrets

MODULE = "groundwork.erp_baseline.redis_acl"


def hashed(value):
    return "#" + hashlib.sha256(value.encode("utf-8")).hexdigest()


class ActionModule(ActionBase):

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        given = args.pop("secrets", None) or {}
        secrets_dir = args.pop("secrets_dir", None)
        users = args.get("users") or []
        if not isinstance(users, list) or not all(
                isinstance(user, dict) and user.get("name") for user in users):
            raise AnsibleActionFail("users must be a list of dicts, each with a name")
        args["users"] = users = [dict(user) for user in users]
        # Nothing is written on the controller in check or audit mode.
        self._dry_run = self._task.check_mode or bool(args.get("audit"))
        warnings = []
        try:
            self._resolve_secrets(users, args, given, secrets_dir, task_vars, warnings)
        except secrets.SecretError as error:
            raise AnsibleActionFail(str(error)) from None
        result.update(self._execute_module(MODULE, module_args=args, task_vars=task_vars))
        result.setdefault("warnings", []).extend(warnings)
        return result

    def _resolve_secrets(self, users, args, given, secrets_dir, task_vars, warnings):
        unknown = []
        for user in users:
            reference = user.pop("password_secret", None)
            if reference is None:
                continue
            tenant, name = self._reference(user, reference)
            value = secrets.given_secret(given, tenant, name)
            if value is None and secrets_dir:
                value = secrets.stored_secret(secrets_dir, tenant, name)
            if value is None:
                unknown.append((user, tenant, name))
            else:
                user["passwords"] = [hashed(value)]
        if not unknown:
            return
        with_password = self._users_with_password(args, task_vars)
        for user, tenant, name in unknown:
            if user["name"] in with_password:
                user["keep_passwords"] = True
                warnings.append(
                    "%s has a password that this controller does not know (no "
                    "erp_baseline_secrets.%s.%s, nothing in %s): kept as it is"
                    % (user["name"], tenant, name, secrets_dir))
            elif self._dry_run or not secrets_dir:
                # A stand-in, so that check mode predicts the new password.
                user["passwords"] = [hashed(random_source.token_urlsafe(24))]
            else:
                user["passwords"] = [hashed(secrets.create_secret(secrets_dir, tenant, name))]

    @staticmethod
    def _reference(user, reference):
        if not isinstance(reference, dict) or not reference.get("tenant") \
                or not reference.get("name"):
            raise AnsibleActionFail("user %s: password_secret needs a tenant and a name"
                                    % user["name"])
        return reference["tenant"], reference["name"]

    def _users_with_password(self, args, task_vars):
        probe = dict(args, users_state_only=True)
        answer = self._execute_module(MODULE, module_args=probe, task_vars=task_vars)
        if answer.get("failed"):
            raise AnsibleActionFail(answer.get("msg", "reading the ACL users failed"))
        return set(answer.get("users_with_password") or [])
