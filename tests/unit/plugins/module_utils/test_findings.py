"""The finding model every module returns."""

import pytest

from ansible_collections.groundwork.erp_baseline.plugins.module_utils import findings


@pytest.mark.parametrize("was_right, audit, status", [
    (True, False, "pass"), (True, True, "pass"), (False, False, "fixed"), (False, True, "fail"),
])
def test_settled_status(was_right, audit, status):
    assert findings.settled("GW-X-1", was_right, audit)["status"] == status


def test_values_become_text_and_empty_fields_are_left_out():
    result = findings.finding("GW-X-1", "fail", observed=["a", "b"], expected=3)
    assert result == {"id": "GW-X-1", "status": "fail", "observed": "a, b", "expected": "3"}


def test_unknown_status_is_a_programming_error():
    with pytest.raises(ValueError):
        findings.finding("GW-X-1", "maybe")
