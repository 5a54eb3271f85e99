# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that derive the Redis instances and ACL users of the cache tier from the tenants.

Tenants share one instance by default. A tenant whose ``redis.instance`` is ``dedicated``
gets its own unit of Debian's ``redis-server@.service`` template, with its own port,
data directory, aclfile, memory limit and persistence, because Redis enforces memory
limits per instance, not per user.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
---
name: redis_instances
short_description: The Redis instances of the cache tier, shared and dedicated
version_added: 0.1.0
description:
  - One entry for the shared instance (Debian's C(redis-server) unit) and one per tenant
    whose C(redis.instance) is C(dedicated) (a C(redis-server@<tenant>) unit), with the
    paths, ports, memory limit, purpose and tenants of each.
options:
  _input:
    description: The tenants (erp_baseline_tenants).
    type: list
    elements: dict
    required: true
  shared:
    description: Settings of the shared instance (port, tls_port, maxmemory, purpose).
    type: dict
    required: true
"""

EXAMPLES = r"""
instances: "{{ erp_baseline_tenants | groundwork.erp_baseline.redis_instances(shared) }}"
users: "{{ instance | groundwork.erp_baseline.redis_tenant_users('erp_admin', hash, rules) }}"
"""

RETURN = r"""
_value:
  description: Instances (redis_instances) or ACL users (redis_tenant_users).
  type: list
  elements: dict
"""

SHARED_NAME = "main"
INSTANCE_KEYS = ("port", "tls_port", "maxmemory", "purpose")


def _shared_instance(shared):
    instance = dict(
        name=SHARED_NAME, unit="redis-server", config="/etc/redis/redis.conf",
        aclfile="/etc/redis/users.acl", data_dir="/var/lib/redis",
        run_dir="/run/redis", logfile="/var/log/redis/redis-server.log", tenants=[])
    instance.update({key: shared.get(key) for key in INSTANCE_KEYS})
    return instance


def _dedicated_instance(name, settings, shared):
    instance = dict(
        name=name, unit="redis-server@%s" % name, config="/etc/redis/redis-%s.conf" % name,
        aclfile="/etc/redis/users-%s.acl" % name, data_dir="/var/lib/redis/%s" % name,
        run_dir="/run/redis-%s" % name,
        logfile="/var/log/redis/redis-server-%s.log" % name, tenants=[name])
    for key in INSTANCE_KEYS:
        if key in ("port", "tls_port") and key not in settings:
            raise AnsibleFilterError(
                "erp_baseline_tenants: %s has a dedicated Redis instance and needs its own "
                "redis.%s" % (name, key))
        instance[key] = settings.get(key, shared.get(key))
    return instance


def redis_instances(tenants, shared):
    """The shared instance first, then one per tenant that asks for its own."""
    main = _shared_instance(shared)
    dedicated = []
    for tenant in tenants or []:
        if tenant.get("state", "present") != "present":
            continue
        settings = tenant.get("redis") or {}
        if settings.get("instance", "shared") == "dedicated":
            dedicated.append(_dedicated_instance(tenant["name"], settings, shared))
        else:
            main["tenants"].append(tenant["name"])
    return [main] + dedicated


def redis_tenant_users(instance, admin_user, admin_hash, commands):
    """The ACL users of one instance: the admin, then each tenant's application user.

    The admin's password arrives as its SHA-256 hex. A tenant's user sees only keys and
    channels under ``<tenant>:``; its password is a tenant secret (``redis_app_password``)
    that the redis_acl action plugin resolves on the controller.
    """
    users = [dict(name=admin_user, passwords=["#" + admin_hash], keys=["*"], channels=["*"],
                  commands=["+@all"])]
    for tenant in instance.get("tenants", []):
        users.append(dict(
            name="%s_app" % tenant, keys=["%s:*" % tenant], channels=["%s:*" % tenant],
            commands=list(commands),
            password_secret=dict(tenant=tenant, name="redis_app_password")))
    return users


class FilterModule(object):

    def filters(self):
        return {"redis_instances": redis_instances, "redis_tenant_users": redis_tenant_users}
