# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the compliance_report action; the action plugin does all the work."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: compliance_report
short_description: Write the compliance report of a run on the controller
description:
  - Reads the findings that the roles of this collection left in a host variable, for every
    host of the play, adds the title, severity, tiers, role and references of each control
    from the control catalog, and writes the evidence into a new directory on the controller.
  - The directory is named after the UTC time of the run, for example
    C(20261203T172000Z), and holds one C(<host>.json) file per host, C(summary.md),
    C(summary.html) and C(junit.xml). A C(latest) symlink in O(dest) points at the newest one.
  - The format of the files is described in C(docs/report-schema.md) of the collection.
  - Failed controls do not fail the task; the task fails only on a wrong argument, an unusable
    catalog or a O(dest) that cannot be written.
version_added: 0.1.0
author:
  - groundwork platform team
options:
  dest:
    description:
      - Directory on the controller that receives the report; created when missing.
      - A relative path is relative to the playbook directory.
    type: path
    required: true
  hosts:
    description:
      - Inventory names of the hosts to report.
      - Defaults to C(ansible_play_hosts_all), every host the play targets, including the hosts
        that failed or were unreachable earlier in the run.
    type: list
    elements: str
  findings_var:
    description:
      - Host variable in which the roles collect their findings.
    type: str
    default: erp_baseline_findings
  mode:
    description:
      - Mode of the run that the report is stamped with.
      - Defaults to the value of C(erp_baseline_mode), or V(enforce) when that is not set.
    type: str
    choices: [audit, enforce]
  catalog:
    description:
      - Control catalog to take titles, severities, tiers, roles and references from.
      - Defaults to C(controls/catalog.yml) of this collection.
    type: path
attributes:
  action:
    support: full
    details: Runs on the controller only; no module is sent to a managed host.
  async:
    support: none
  bypass_host_loop:
    support: none
    details: Runs once per host of the play unless the task sets C(run_once) to V(true).
  check_mode:
    support: full
    details:
      - The report is written in check mode too. It is evidence on the controller, not a change
        to a managed host, and the findings of a check-mode run are worth keeping.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
    details: The controller; managed hosts are not contacted.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
notes:
  - Call it once, from a final play on the same hosts as the roles, with C(run_once) set to
    V(true); it warns when it runs for several hosts. If every host has failed before that play,
    the play does not run; a final play on C(localhost) with O(hosts) set writes the report in
    every case.
  - The task never reports C(changed). The report is evidence on the controller, not a change to
    a managed host, so a second run of a playbook still reports C(changed=0).
  - A host without the findings variable (unreachable, or failed before any role ran) is listed
    as "no findings (host unreachable or failed)". When O(hosts) is left to default, a host that
    failed or became unreachable after some roles ran keeps its findings and is marked as
    incomplete; with O(hosts) given this is not known and not shown.
  - A finding whose control is not in the catalog is kept with the title "(not in catalog)" and
    the task returns a warning naming the control.
  - Only the findings variable of each host is read. Findings carry observed values that the
    modules of this collection produce without secrets; no other host variable is written out.
  - The task also sets the custom stat C(erp_baseline_report), as M(ansible.builtin.set_stats)
    would, with the report directory, the totals and the lists of hosts without or with partial
    findings. AWX keeps it as an artifact of the job.
"""

EXAMPLES = r"""
- name: Write the compliance report of the run
  hosts: all
  gather_facts: false
  tasks:
    - name: Write the report of every host of the play
      groundwork.erp_baseline.compliance_report:
        dest: "{{ playbook_dir }}/reports"
      run_once: true

- name: Write the report from localhost, even when every managed host has failed
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Write the report of every host of the inventory
      groundwork.erp_baseline.compliance_report:
        dest: /var/lib/erp-baseline/reports
        hosts: "{{ groups['all'] }}"
        mode: audit
      register: compliance

    - name: Fail the job when a control failed, after the evidence is written
      ansible.builtin.assert:
        that: compliance.failed_controls == 0
        fail_msg: "{{ compliance.failed_controls }} failed controls: {{ compliance.msg }}"
"""

RETURN = r"""
msg:
  description: One line that says where the report is and how many controls failed.
  returned: success
  type: str
  sample: "report written to /srv/ansible/reports/20261203T172000Z: 1 failed controls on 3 hosts"
report_dir:
  description: Directory of this report; C(latest) in O(dest) points at it.
  returned: success
  type: str
  sample: /srv/ansible/reports/20261203T172000Z
totals:
  description: Number of findings per status over all hosts.
  returned: success
  type: dict
  sample: {"pass": 41, "fixed": 3, "fail": 1, "skipped": 2, "not_applicable": 4, "unknown": 0}
hosts:
  description: Number of findings per status for each host; all zero for a host without findings.
  returned: success
  type: dict
  sample: {"app1": {"pass": 20, "fixed": 1, "fail": 1, "skipped": 1, "not_applicable": 2,
           "unknown": 0}}
failed_controls:
  description:
    - Number of findings with status V(fail) over all hosts; a control that fails on three hosts
      counts three times.
  returned: success
  type: int
  sample: 1
hosts_without_findings:
  description: Hosts that hold no findings variable.
  returned: success
  type: list
  elements: str
  sample: ["db2"]
incomplete_hosts:
  description:
    - Hosts that failed or were unreachable after some roles ran, so their findings are partial.
    - Always empty when O(hosts) is given, since the play cannot tell then.
  returned: success
  type: list
  elements: str
  sample: []
"""
