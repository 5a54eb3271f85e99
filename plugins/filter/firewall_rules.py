# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inbound firewall rules a host needs for its tiers, derived from the inventory."""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
---
name: tier_firewall_rules
short_description: Inbound rules between the tiers, derived from the inventory groups
version_added: 0.1.0
description:
  - The rules a host of the given groups needs so that the tiers reach each other and
    nothing else does. C(proxy) accepts HTTP and HTTPS from everywhere; C(app) accepts
    the Odoo ports from the proxy hosts; C(db) accepts PostgreSQL and C(cache) accepts
    Redis from the application hosts only.
  - Each rule has the form of C(host_baseline_firewall_rules) (name, port, proto,
    sources). A rule whose peers have no address is left out.
options:
  _input:
    description: The host's groups (group_names).
    type: list
    elements: str
    required: true
  peers:
    description: Addresses of the hosts of each tier, C({app: [...], proxy: [...]}).
    type: dict
    required: true
  ports:
    description: >-
      Ports of each tier's service, C({postgresql: [5432], redis: [6380],
      odoo: [8069, 8072], web: [80, 443]}).
    type: dict
    required: true
"""

EXAMPLES = r"""
rules: "{{ group_names | groundwork.erp_baseline.tier_firewall_rules(peers, ports) }}"
"""

RETURN = r"""
_value:
  description: Firewall rules, in the form of host_baseline_firewall_rules.
  type: list
  elements: dict
"""

EVERYWHERE = ["0.0.0.0/0", "::/0"]
# Which group accepts which service from which peers.
TIER_SERVICES = (
    ("proxy", "web", None),
    ("app", "odoo", "proxy"),
    ("db", "postgresql", "app"),
    ("cache", "redis", "app"),
)


def _as_network(address):
    try:
        return str(ipaddress.ip_network(str(address), strict=False))
    except ValueError:
        raise AnsibleFilterError(
            "erp_baseline_address %r of a peer host is not an IP address" % (address,)) from None


def tier_firewall_rules(group_names, peers, ports):
    rules = []
    for group, service, peer_group in TIER_SERVICES:
        if group not in (group_names or []):
            continue
        if peer_group is None:
            sources = list(EVERYWHERE)
        else:
            sources = sorted({_as_network(address) for address in peers.get(peer_group) or []})
        if not sources:
            continue
        for port in sorted({int(port) for port in ports.get(service) or []}):
            rules.append(dict(name="%s from %s" % (service, peer_group or "everywhere"),
                              port=port, proto="tcp", sources=sources))
    return rules


class FilterModule(object):

    def filters(self):
        return {"tier_firewall_rules": tier_firewall_rules}
