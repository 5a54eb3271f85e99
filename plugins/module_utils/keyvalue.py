# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Edits of ``KEY value`` and ``key = value`` files that keep the rest of the file as it is.

Used for files that the distribution owns and comments richly (login.defs): the
module changes only the keys it manages and leaves every other line alone.
"""

from __future__ import annotations

import re


def set_keys(text, wanted, separator=" "):
    """Return (new text, {key: old value}) with each wanted key set once.

    A wanted value of None writes the key alone, as a flag.

    The first active line of a key is rewritten in place, later duplicates are dropped
    (the first one would win anyway in most readers, which hides the intent), and keys
    that are missing are appended at the end.
    """
    lines = text.splitlines()
    seen = set()
    old_values = {}
    result = []
    for line in lines:
        key, value = _parse(line, separator)
        if key is None or key not in wanted:
            result.append(line)
            continue
        if key in seen:
            old_values[key] = old_values.get(key, value)
            continue
        seen.add(key)
        if value != _text(wanted[key]):
            old_values[key] = value
        result.append(_render(key, wanted[key], separator))
    for key in wanted:
        if key not in seen:
            old_values[key] = None
            result.append(_render(key, wanted[key], separator))
    return "\n".join(result) + "\n", old_values


def get_keys(text, keys, separator=" "):
    """Return {key: value} of the first active line of each key (None when absent)."""
    values = {key: None for key in keys}
    for line in text.splitlines():
        key, value = _parse(line, separator)
        if key in values and values[key] is None:
            values[key] = value
    return values


def _parse(line, separator):
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None, None
    if separator == "=":
        key, found, value = stripped.partition("=")
        if not found:
            return stripped, ""
        return key.strip(), value.strip()
    parts = re.split(r"\s+", stripped, maxsplit=1)
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


def _text(value):
    return "" if value is None else str(value)


def _render(key, value, separator):
    if value is None:  # a flag such as enforce_for_root: the key alone
        return key
    if separator == "=":
        return "%s = %s" % (key, value)
    return "%s %s" % (key, value)
