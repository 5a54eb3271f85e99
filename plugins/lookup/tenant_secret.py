# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: tenant_secret
short_description: A secret of a tenant or of the platform - given, kept, or generated once
version_added: 0.1.0
description:
  - Returns C(erp_baseline_secrets.<tenant>.<name>) when it is given (Ansible Vault, an
    AWX credential). Otherwise returns the secret kept in C(<secrets_dir>/<tenant>/<name>)
    on the controller.
  - When neither exists and O(create) is true, generates a random secret, keeps it in
    that file (folder 0700, file 0600) and returns it; later runs read it back, so a
    re-run never rotates the secret by accident.
  - When neither exists and O(create) is false, returns an empty string.
  - Platform-wide secrets use the tenant name C(_platform), which no tenant can have.
options:
  _terms:
    description: The tenant, then the secret's name.
    type: list
    elements: str
    required: true
  given:
    description: The given secrets (erp_baseline_secrets).
    type: dict
    default: {}
  secrets_dir:
    description: Controller folder that keeps generated secrets.
    type: path
    required: true
  create:
    description: Generate and keep the secret when it is not known yet.
    type: bool
    default: false
notes:
  - Use the value only in no_log task arguments or turn it into a hash first; a lookup's
    result is not masked by itself.
"""

EXAMPLES = r"""
admin_password: >-
  {{ lookup('groundwork.erp_baseline.tenant_secret', '_platform', 'redis_admin_password',
            given=erp_baseline_secrets, secrets_dir=erp_baseline_secrets_dir, create=true) }}
"""

RETURN = r"""
_raw:
  description: The secret, or an empty string when it is not known and O(create) is false.
  type: list
  elements: str
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.groundwork.erp_baseline.plugins.plugin_utils import secrets


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if len(terms) != 2 or not all(isinstance(term, str) and term for term in terms):
            raise AnsibleLookupError("tenant_secret takes a tenant and a secret name")
        tenant, name = terms
        try:
            value = secrets.resolve_secret(
                self.get_option("given"), self.get_option("secrets_dir"), tenant, name,
                may_create=self.get_option("create"))
        except secrets.SecretError as error:
            raise AnsibleLookupError(str(error)) from None
        return [value or ""]
