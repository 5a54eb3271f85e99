# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of postgresql_tenant: tenant secrets become SCRAM verifiers here.

Each login role's password is the tenant secret ``db_<kind>_password`` (``kind`` is app,
ro or migrate): given in ``secrets`` (erp_baseline_secrets), or kept in ``secrets_dir``,
or generated there when the role has no password on the server yet. A role that has a
password the controller does not know keeps it, with a warning, rather than being
rotated under a running application. One read-only module call returns the stored
salts; the second call reconciles with verifiers only.
"""

from __future__ import annotations

import secrets as random_source

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.groundwork.erp_baseline.plugins.plugin_utils import scram
from ansible_collections.groundwork.erp_baseline.plugins.plugin_utils import secrets

MODULE = "groundwork.erp_baseline.postgresql_tenant"
LOGIN_KINDS = ("app", "ro", "migrate")
# What the module reads of a tenant; other tiers' keys (domains, Odoo settings) stay here.
TENANT_KEYS = ("name", "state", "database", "destroy_data")
DATABASE_KEYS = ("connection_limit", "ro_connection_limit", "migrate_connection_limit")


class ActionModule(ActionBase):

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        given = args.pop("secrets", None) or {}
        secrets_dir = args.pop("secrets_dir", None)
        tenants = args.get("tenants") or []
        if not isinstance(tenants, list) or not all(
                isinstance(tenant, dict) and tenant.get("name") for tenant in tenants):
            raise AnsibleActionFail("tenants must be a list of dicts, each with a name")
        tenants = [self._database_view(tenant) for tenant in tenants]
        args["tenants"] = tenants
        present = [t["name"] for t in tenants if t.get("state", "present") == "present"]
        if present and args.get("mode", "enforce") == "enforce" and not secrets_dir:
            raise AnsibleActionFail("secrets_dir is required to keep generated passwords")
        # Nothing is written on the controller in check or audit mode either.
        self._dry_run = self._task.check_mode or args.get("mode") == "audit"
        states = self._password_states(args, task_vars) if present else {}
        warnings = []
        try:
            args["passwords"] = self._verifiers(present, given, secrets_dir, states, warnings)
        except (secrets.SecretError, scram.ScramError) as error:
            raise AnsibleActionFail(str(error)) from None
        result.update(self._execute_module(MODULE, module_args=args, task_vars=task_vars))
        result.setdefault("warnings", []).extend(warnings)
        return result

    @staticmethod
    def _database_view(tenant):
        view = {key: tenant[key] for key in TENANT_KEYS if key in tenant}
        database = tenant.get("database") or {}
        if not isinstance(database, dict):
            raise AnsibleActionFail("tenant %s: database must be a dict" % tenant["name"])
        view["database"] = {key: database[key] for key in DATABASE_KEYS if key in database}
        return view

    def _password_states(self, args, task_vars):
        probe = dict(args, password_state_only=True)
        answer = self._execute_module(MODULE, module_args=probe, task_vars=task_vars)
        if answer.get("failed"):
            raise AnsibleActionFail(answer.get("msg", "reading the stored passwords failed"))
        return answer.get("password_state") or {}

    def _verifiers(self, tenants, given, secrets_dir, states, warnings):
        verifiers = {}
        for tenant in tenants:
            for kind in LOGIN_KINDS:
                role = "%s_%s" % (tenant, kind)
                state = states.get(role) or {"exists": False, "kind": "none"}
                password = self._password(given, secrets_dir, tenant, kind, state)
                if password is None:
                    warnings.append(
                        "%s has a password that this controller does not know (no "
                        "erp_baseline_secrets.%s.db_%s_password, nothing in %s): kept as it is"
                        % (role, tenant, kind, secrets_dir))
                    continue
                verifiers[role] = scram.password_verifier(password, state)
        return verifiers

    def _password(self, given, secrets_dir, tenant, kind, state):
        name = "db_%s_password" % kind
        may_create = state["kind"] == "none"
        if self._dry_run or not secrets_dir:
            known = secrets.given_secret(given, tenant, name) or (
                secrets.stored_secret(secrets_dir, tenant, name) if secrets_dir else None)
            if known is None and may_create:
                return random_source.token_urlsafe(secrets.GENERATED_BYTES)
            return known
        return secrets.resolve_secret(given, secrets_dir, tenant, name, may_create)
