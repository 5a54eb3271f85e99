# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Firewall rules between the tiers, derived from the groups a host is in."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.erp_baseline.plugins.filter.firewall_rules import (
    tier_firewall_rules)

PEERS = {"app": ["10.0.0.12", "10.0.0.22"], "proxy": ["10.0.0.11"]}
PORTS = {"web": [80, 443], "odoo": [8069, 8072], "postgresql": [5432],
         "redis": [6380, 6391]}


def test_the_database_accepts_postgresql_from_the_app_hosts_only():
    assert tier_firewall_rules(["db"], PEERS, PORTS) == [
        {"name": "postgresql from app", "port": 5432, "proto": "tcp",
         "sources": ["10.0.0.12/32", "10.0.0.22/32"]}]


def test_the_cache_opens_every_redis_instance_to_the_app_hosts():
    rules = tier_firewall_rules(["cache"], PEERS, PORTS)
    assert [rule["port"] for rule in rules] == [6380, 6391]
    assert all(rule["sources"] == ["10.0.0.12/32", "10.0.0.22/32"] for rule in rules)


def test_the_proxy_serves_everyone_and_the_app_only_the_proxy():
    proxy = tier_firewall_rules(["proxy"], PEERS, PORTS)
    assert [(rule["port"], rule["sources"]) for rule in proxy] == [
        (80, ["0.0.0.0/0", "::/0"]), (443, ["0.0.0.0/0", "::/0"])]
    app = tier_firewall_rules(["app"], PEERS, PORTS)
    assert [(rule["port"], rule["sources"]) for rule in app] == [
        (8069, ["10.0.0.11/32"]), (8072, ["10.0.0.11/32"])]


def test_no_peer_address_opens_nothing_and_other_groups_get_no_rule():
    assert tier_firewall_rules(["db"], {"app": []}, PORTS) == []
    assert tier_firewall_rules(["hardened"], PEERS, PORTS) == []


def test_a_peer_address_that_is_not_one_is_named():
    with pytest.raises(AnsibleFilterError, match="'app-host' .* not an IP address"):
        tier_firewall_rules(["db"], {"app": ["app-host"]}, PORTS)
