# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redis instances and users derived from the tenants; findings merged over instances."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.erp_baseline.plugins.filter.findings import merge_findings
from ansible_collections.groundwork.erp_baseline.plugins.filter.redis_tenants import (
    redis_instances, redis_tenant_users)

SHARED = {"port": 6379, "tls_port": 6380, "maxmemory": "256mb", "purpose": "session"}


def test_tenants_share_one_instance_unless_they_ask_for_their_own():
    tenants = [
        {"name": "tenant_a"},
        {"name": "tenant_b", "state": "absent"},
        {"name": "tenant_c", "redis": {"instance": "dedicated", "port": 6390,
                                       "tls_port": 6391, "purpose": "cache"}},
    ]
    main, own = redis_instances(tenants, SHARED)
    assert (main["unit"], main["tenants"], main["aclfile"]) == (
        "redis-server", ["tenant_a"], "/etc/redis/users.acl")
    assert own["unit"] == "redis-server@tenant_c"
    assert (own["port"], own["tls_port"], own["purpose"], own["maxmemory"]) == (
        6390, 6391, "cache", "256mb")
    assert own["data_dir"] == "/var/lib/redis/tenant_c" and own["tenants"] == ["tenant_c"]


def test_a_dedicated_instance_without_its_own_port_is_refused():
    with pytest.raises(AnsibleFilterError, match="tenant_c .* needs its own redis.port"):
        redis_instances([{"name": "tenant_c", "redis": {"instance": "dedicated"}}], SHARED)


def test_each_tenant_user_is_confined_to_its_prefix_and_the_admin_has_a_hash():
    instance = redis_instances([{"name": "tenant_a"}], SHARED)[0]
    admin, user = redis_tenant_users(instance, "erp_admin", "ab" * 32, ["+@read"])
    assert admin["passwords"] == ["#" + "ab" * 32] and admin["keys"] == ["*"]
    assert user == {"name": "tenant_a_app", "keys": ["tenant_a:*"],
                    "channels": ["tenant_a:*"], "commands": ["+@read"],
                    "password_secret": {"tenant": "tenant_a", "name": "redis_app_password"}}


def test_merged_findings_keep_the_worst_status_and_name_each_instance():
    results = [
        {"item": {"name": "main"}, "findings": [
            {"id": "GW-X-001", "status": "pass", "observed": "on"},
            {"id": "GW-X-002", "status": "pass"}]},
        {"item": {"name": "tenant_c"}, "findings": [
            {"id": "GW-X-001", "status": "fail", "observed": "off"}]},
    ]
    first, second = merge_findings(results)
    assert first == {"id": "GW-X-001", "status": "fail",
                     "observed": "main: on; tenant_c: off"}
    assert second == {"id": "GW-X-002", "status": "pass"}


def test_a_single_instance_keeps_its_findings_as_they_are():
    findings = [{"id": "GW-X-001", "status": "fixed", "observed": "on", "reason": "why"}]
    assert merge_findings([{"item": {"name": "main"}, "findings": findings}]) == findings
