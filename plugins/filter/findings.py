# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over findings: one finding per control and host, whatever reported it."""

from __future__ import annotations

DOCUMENTATION = r"""
---
name: merge_findings
short_description: One finding per control from the findings of a looped task
version_added: 0.1.0
description:
  - A task looped over several instances of a service (one Redis per tenant, say)
    returns the same controls once per instance. The report wants one finding per
    control and host, so this filter merges them.
  - The merged status is the worst one (fail, then unknown, fixed, pass, skipped,
    not applicable). Observed values and reasons are kept, each prefixed with the label
    of its instance when there is more than one.
options:
  _input:
    description: The C(results) of a looped task, each with C(item) and C(findings).
    type: list
    elements: dict
    required: true
  label:
    description: Key of the loop item that names the instance.
    type: str
    default: name
"""

EXAMPLES = r"""
findings: "{{ __audit.results | groundwork.erp_baseline.merge_findings }}"
"""

RETURN = r"""
_value:
  description: Findings, one per control, in the order controls first appeared.
  type: list
  elements: dict
"""

# The status that tells the reader most wins the merge.
WORST_FIRST = ("fail", "unknown", "fixed", "pass", "skipped", "not_applicable")


def _labelled(results, label):
    for result in results or []:
        item = result.get("item")
        name = item.get(label) if isinstance(item, dict) else item
        for finding in result.get("findings") or []:
            yield str(name), finding


def _join(parts, labelled):
    if not parts:
        return None
    if not labelled:
        return parts[0][1]
    return "; ".join("%s: %s" % part for part in parts)


def merge_findings(results, label="name"):
    by_control = {}
    for name, finding in _labelled(results, label):
        by_control.setdefault(finding["id"], []).append((name, finding))
    merged = []
    for entries in by_control.values():
        labelled = len(entries) > 1
        worst = min(entries, key=lambda entry: WORST_FIRST.index(entry[1]["status"]))[1]
        result = dict(worst)
        for field in ("observed", "reason"):
            parts = [(name, finding[field]) for name, finding in entries if finding.get(field)]
            value = _join(parts, labelled)
            if value is None:
                result.pop(field, None)
            else:
                result[field] = value
        merged.append(result)
    return merged


class FilterModule(object):

    def filters(self):
        return {"merge_findings": merge_findings}
