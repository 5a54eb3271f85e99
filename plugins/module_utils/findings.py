# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The finding model shared by every module of the collection.

A finding is the result of one control on one host. Modules return a list of them;
the roles collect them and the report writer turns them into evidence.
"""

from __future__ import annotations

PASS = "pass"
FIXED = "fixed"
FAIL = "fail"
SKIPPED = "skipped"
NOT_APPLICABLE = "not_applicable"
UNKNOWN = "unknown"

STATUSES = (PASS, FIXED, FAIL, SKIPPED, NOT_APPLICABLE, UNKNOWN)


def finding(control_id, status, observed=None, expected=None, reason=None):
    """Build one finding; values are turned into short strings for the report."""
    if status not in STATUSES:
        raise ValueError("unknown finding status %r" % status)
    result = {"id": control_id, "status": status}
    if observed is not None:
        result["observed"] = _text(observed)
    if expected is not None:
        result["expected"] = _text(expected)
    if reason:
        result["reason"] = reason
    return result


def settled(control_id, was_right, audit, observed=None, expected=None):
    """The finding for a control that enforce mode brings to the baseline.

    ``was_right`` says whether the host already met the control before this run.
    In audit mode a wrong value is a failure; in enforce mode it has been fixed.
    """
    if was_right:
        status = PASS
    elif audit:
        status = FAIL
    else:
        status = FIXED
    return finding(control_id, status, observed=observed, expected=expected)


def _text(value):
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return str(value)
