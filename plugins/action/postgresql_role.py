# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of postgresql_role: the password leaves as a SCRAM verifier.

A plaintext password costs one extra, read-only module call that returns the stored
salt and iteration count; the verifier derived with them equals the stored one when the
password is unchanged. A ready verifier, or no password, needs no extra call.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.groundwork.erp_baseline.plugins.plugin_utils import scram

MODULE = "groundwork.erp_baseline.postgresql_role"


class ActionModule(ActionBase):

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        password = args.get("password")
        if password is not None and not scram.is_verifier(password):
            if not isinstance(password, str) or not password:
                raise AnsibleActionFail("password must be a non-empty string")
            state = self._stored_password_state(args, task_vars)
            try:
                args["password"] = scram.password_verifier(password, state)
            except scram.ScramError as error:
                raise AnsibleActionFail(str(error)) from None
        result.update(self._execute_module(MODULE, module_args=args, task_vars=task_vars))
        return result

    def _stored_password_state(self, args, task_vars):
        probe = {key: value for key, value in args.items() if key != "password"}
        probe.update(password_state_only=True, state="present")
        answer = self._execute_module(MODULE, module_args=probe, task_vars=task_vars)
        if answer.get("failed"):
            raise AnsibleActionFail(answer.get("msg", "reading the stored password failed"))
        return answer.get("password_state") or {}
