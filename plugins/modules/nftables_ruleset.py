#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: nftables_ruleset
short_description: Loads the host firewall as one nftables table, checked and rolled back
version_added: 0.1.0
description:
  - Owns one nftables table (O(table)) and the file it is loaded from at boot. Other
    tables, such as the chains Docker installs, are left alone. The file deletes and
    recreates only its own table and never flushes the whole ruleset.
  - Before anything changes, refuses a ruleset that would cut an SSH session that is
    open right now from an address outside O(admin_networks), and checks the candidate
    with C(nft -c).
  - Loads the new table, reads it back, and restores the previous table and file when
    loading fails.
options:
  mode:
    description: V(enforce) brings the host to the baseline; V(audit) only reports.
    type: str
    choices: [enforce, audit]
    default: enforce
  content:
    description: The whole ruleset file. It must define O(table).
    type: str
    required: true
  path:
    description: The file nftables.service loads at boot.
    type: path
    default: /etc/nftables.conf
  table:
    description: The table this module owns, as C(family name).
    type: str
    default: inet groundwork
  admin_networks:
    description: Networks SSH is allowed from, in CIDR notation.
    type: list
    elements: str
    required: true
  ssh_port:
    description: Port of the SSH server, to find the sessions open now.
    type: int
    default: 22
  allow_lockout:
    description: Load even when an open SSH session comes from outside O(admin_networks).
    type: bool
    default: false
  control:
    description: Control ID the finding is reported under.
    type: str
    default: GW-HOST-050
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - The lockout check looks at the SSH sessions established when the module runs; a
    controller that connects through a jump host is seen with the jump host's address.
author:
  - groundwork platform team
"""

EXAMPLES = r"""
- name: Host firewall
  groundwork.erp_baseline.nftables_ruleset:
    content: "{{ lookup('ansible.builtin.template', 'nftables.conf.j2') }}"
    admin_networks: [192.0.2.0/24]
"""

RETURN = r"""
findings:
  description: One finding for the firewall control.
  returned: always
  type: list
  elements: dict
ssh_peers:
  description: Addresses of the SSH sessions open when the module ran.
  returned: always
  type: list
  elements: str
"""

import ipaddress
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.groundwork.erp_baseline.plugins.module_utils import files
from ansible_collections.groundwork.erp_baseline.plugins.module_utils.findings import (
    FAIL, finding, settled)

NFT = "/usr/sbin/nft"


def ssh_peers(run_command, port):
    """Addresses of established TCP sessions to the local SSH port."""
    rc, out, _ = run_command(["ss", "-Htn", "state", "established", "( sport = :%d )" % port])
    if rc != 0:
        return []
    peers = []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 4:
            address = fields[-1].rsplit(":", 1)[0].strip("[]")
            if address.startswith("::ffff:"):
                address = address[len("::ffff:"):]
            peers.append(address)
    return sorted(set(peers))


def outside(peers, networks):
    """The peers no admin network contains."""
    parsed = [ipaddress.ip_network(net, strict=False) for net in networks]
    result = []
    for peer in peers:
        address = ipaddress.ip_address(peer)
        if address.is_loopback:
            continue
        if not any(address.version == net.version and address in net for net in parsed):
            result.append(peer)
    return result


class Ruleset(object):

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.dry_run = self.params["mode"] == "audit" or module.check_mode

    def nft(self, *args):
        return self.module.run_command([NFT] + list(args))

    def loaded_table(self):
        rc, out, _ = self.nft("list", "table", *self.params["table"].split())
        return out if rc == 0 else None

    def check_candidate(self):
        directory = os.path.dirname(self.params["path"])
        with tempfile.NamedTemporaryFile("w", dir=directory, prefix=".gw-nft-",
                                         suffix=".conf") as candidate:
            candidate.write(self.params["content"])
            candidate.flush()
            rc, out, err = self.nft("-c", "-f", candidate.name)
        if rc != 0:
            self.module.fail_json(msg="nft -c refused the ruleset, nothing was changed: %s"
                                  % (err or out).strip())

    def load(self, previous_table, backup):
        rc, out, err = self.nft("-f", self.params["path"])
        if rc == 0 and self.loaded_table() is not None:
            return
        files.restore(self.params["path"], backup)
        if previous_table:
            family, name = self.params["table"].split()
            self.module.run_command([NFT, "-f", "-"], data="table %s %s\ndelete table %s %s\n%s"
                                    % (family, name, family, name, previous_table))
        self.module.fail_json(msg="loading the ruleset failed, the previous one is back: %s"
                              % (err or out).strip())


def main():
    module = AnsibleModule(
        argument_spec=dict(
            mode=dict(type="str", default="enforce", choices=["enforce", "audit"]),
            content=dict(type="str", required=True),
            path=dict(type="path", default="/etc/nftables.conf"),
            table=dict(type="str", default="inet groundwork"),
            admin_networks=dict(type="list", elements="str", required=True),
            ssh_port=dict(type="int", default=22),
            allow_lockout=dict(type="bool", default=False),
            control=dict(type="str", default="GW-HOST-050"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    for network in params["admin_networks"]:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            module.fail_json(msg="admin_networks: %r is not a network in CIDR notation"
                             % network)
    control = params["control"]
    if not os.path.exists(NFT):
        if params["mode"] == "audit" or module.check_mode:
            module.exit_json(changed=not params["mode"] == "audit", ssh_peers=[], findings=[
                finding(control, FAIL, observed="nftables is not installed: no firewall")])
        module.fail_json(msg="nftables is not installed; install it before this module runs")

    ruleset = Ruleset(module)
    peers = ssh_peers(module.run_command, params["ssh_port"])
    cut_off = outside(peers, params["admin_networks"])
    if cut_off and params["mode"] == "enforce" and not params["allow_lockout"]:
        module.fail_json(msg="refusing to load the firewall: SSH sessions are open from %s, "
                             "outside the admin networks %s. Nothing was changed."
                         % (", ".join(cut_off), ", ".join(params["admin_networks"])),
                         ssh_peers=peers)

    current = files.read_text(params["path"])
    loaded = ruleset.loaded_table()
    file_right = current == params["content"]
    right = file_right and loaded is not None
    result = dict(changed=False, ssh_peers=peers)
    if not right:
        if params["mode"] == "enforce":
            ruleset.check_candidate()
        result["changed"] = params["mode"] == "enforce"
        if module._diff:
            result["diff"] = {"before": current or "", "after": params["content"]}
        if not ruleset.dry_run:
            backup = None if file_right else files.write_text(params["path"],
                                                               params["content"], 0o600)
            ruleset.load(loaded, backup)
    observed = "table %s loaded from %s; SSH from %s" % (
        params["table"], params["path"], ", ".join(params["admin_networks"]))
    if not right and ruleset.dry_run:
        observed = "table %s %s; %s %s" % (
            params["table"], "loaded" if loaded else "not loaded", params["path"],
            "as wanted" if file_right else "different or missing")
    result["findings"] = [settled(control, right, ruleset.dry_run, observed=observed)]
    if cut_off:
        result["findings"].append(finding(control, FAIL, observed="SSH sessions from "
                                          + ", ".join(cut_off) + " outside admin networks"))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
