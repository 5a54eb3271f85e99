# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that derive per-tenant access rules from erp_baseline_tenants."""

from __future__ import annotations

DOCUMENTATION = r"""
---
name: tenant_hba_rules
short_description: pg_hba rules that let application hosts reach their tenants' databases
version_added: 0.1.0
description:
  - One C(hostssl) rule per tenant and client network, for the tenant's own database and
    its three login roles, with SCRAM-SHA-256. Absent tenants get none.
options:
  _input:
    description: The tenants (erp_baseline_tenants).
    type: list
    elements: dict
    required: true
  networks:
    description: Client networks in CIDR notation.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
rules: "{{ erp_baseline_tenants | groundwork.erp_baseline.tenant_hba_rules(['192.0.2.0/28']) }}"
"""

RETURN = r"""
_value:
  description: Rules in the form the postgresql_hba module takes.
  type: list
  elements: dict
"""

LOGIN_KINDS = ("app", "ro", "migrate")


def tenant_hba_rules(tenants, networks):
    rules = []
    for tenant in tenants or []:
        if tenant.get("state", "present") != "present":
            continue
        name = tenant["name"]
        for network in networks or []:
            rules.append(dict(
                type="hostssl", databases=[name],
                users=["%s_%s" % (name, kind) for kind in LOGIN_KINDS],
                address=network, method="scram-sha-256",
                comment="tenant %s from %s" % (name, network)))
    return rules


class FilterModule(object):

    def filters(self):
        return {"tenant_hba_rules": tenant_hba_rules}
