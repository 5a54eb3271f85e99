# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sshd knowledge shared by the sshd_hardening module and its tests.

Pure functions: rendering a drop-in, reading ``sshd -T`` output, judging whether a user
would still be admitted. Nothing here touches the host.
"""

from __future__ import annotations

import re

# Which control each sshd keyword belongs to. A keyword not listed here is reported under
# GW-SSH-013 (other settings the inventory asked for).
CONTROL_KEYWORDS = {
    "GW-SSH-001": ("kexalgorithms", "ciphers", "macs", "hostkeyalgorithms"),
    "GW-SSH-004": ("passwordauthentication", "kbdinteractiveauthentication",
                   "permitemptypasswords"),
    "GW-SSH-005": ("permitrootlogin",),
    "GW-SSH-006": ("maxauthtries", "logingracetime", "maxstartups", "maxsessions"),
    "GW-SSH-007": ("clientaliveinterval", "clientalivecountmax"),
    "GW-SSH-008": ("allowgroups", "allowusers", "denygroups", "denyusers"),
    "GW-SSH-009": ("x11forwarding", "allowagentforwarding", "allowtcpforwarding",
                   "allowstreamlocalforwarding", "permittunnel", "gatewayports",
                   "permituserenvironment"),
    "GW-SSH-010": ("banner",),
    "GW-SSH-011": ("loglevel", "ignorerhosts", "hostbasedauthentication", "usepam",
                   "pubkeyauthentication"),
}
OTHER_SETTINGS_CONTROL = "GW-SSH-013"

# Keywords whose list values sshd reads comma-separated; the others take spaces.
COMMA_LISTS = frozenset((
    "kexalgorithms", "ciphers", "macs", "hostkeyalgorithms", "pubkeyacceptedalgorithms",
    "casignaturealgorithms", "hostbasedacceptedalgorithms",
))

# The `ssh -Q` query that lists what this OpenSSH knows, per algorithm keyword.
ALGORITHM_QUERIES = {
    "kexalgorithms": "kex",
    "ciphers": "cipher",
    "macs": "mac",
    "hostkeyalgorithms": "key-sig",
    "pubkeyacceptedalgorithms": "key-sig",
}

_DURATION = re.compile(r"^(\d+)([smhdw]?)$", re.IGNORECASE)
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION_KEYWORDS = frozenset(("logingracetime", "clientaliveinterval"))


def control_for(keyword):
    """Return the control ID a keyword belongs to."""
    keyword = keyword.lower()
    for control_id, keywords in CONTROL_KEYWORDS.items():
        if keyword in keywords:
            return control_id
    return OTHER_SETTINGS_CONTROL


def render_value(keyword, value):
    """Render a setting the way sshd_config wants it."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        separator = "," if keyword.lower() in COMMA_LISTS else " "
        return separator.join(str(item) for item in value)
    return str(value)


def expected_value(keyword, value):
    """Render a setting the way ``sshd -T`` reports it, for comparison."""
    keyword = keyword.lower()
    text = render_value(keyword, value)
    if keyword in _DURATION_KEYWORDS:
        match = _DURATION.match(text)
        if match:
            return str(int(match.group(1)) * _SECONDS[match.group(2).lower()])
    return text.lower() if keyword not in ("banner",) else text


def render_dropin(settings, host_keys, header):
    """Render the whole drop-in: host keys first, then the settings in a stable order."""
    lines = [header.rstrip(), ""]
    lines += ["HostKey %s" % path for path in host_keys]
    for keyword in sorted(settings, key=str.lower):
        lines.append("%s %s" % (keyword, render_value(keyword, settings[keyword])))
    return "\n".join(lines) + "\n"


def parse_effective(text):
    """Read ``sshd -T`` output into {keyword: value}; repeated keywords are joined."""
    effective = {}
    for line in text.splitlines():
        keyword, _, value = line.strip().partition(" ")
        if not keyword:
            continue
        keyword = keyword.lower()
        if keyword in effective and keyword not in COMMA_LISTS:
            effective[keyword] = effective[keyword] + " " + value
        else:
            effective[keyword] = value
    return effective


def differences(settings, effective):
    """Return {keyword: (expected, observed)} for every setting sshd does not apply."""
    wrong = {}
    for keyword, value in settings.items():
        expected = expected_value(keyword, value)
        observed = effective.get(keyword.lower(), "(unset)")
        if _normalise(keyword, observed) != expected:
            wrong[keyword] = (expected, observed)
    return wrong


def _normalise(keyword, observed):
    return observed if keyword.lower() == "banner" else observed.lower()


def unknown_algorithms(settings, known_by_query):
    """Return {keyword: [names]} of algorithms that this OpenSSH does not know."""
    unknown = {}
    for keyword, value in settings.items():
        query = ALGORITHM_QUERIES.get(keyword.lower())
        if query is None or query not in known_by_query:
            continue
        names = value if isinstance(value, (list, tuple)) else str(value).split(",")
        missing = [name for name in names if name.lstrip("+-^") not in known_by_query[query]]
        if missing:
            unknown[keyword] = missing
    return unknown


def admission_problems(user, groups, settings):
    """Say why sshd would refuse ``user`` (a member of ``groups``) under ``settings``.

    Mirrors sshd's order: DenyUsers, AllowUsers, DenyGroups, AllowGroups. Returns a list
    of reasons; empty when the user would be admitted. Patterns use sshd's * and ?.
    """
    lowered = {key.lower(): value for key, value in settings.items()}
    problems = []
    if _matches_any(user, _as_list(lowered.get("denyusers"))):
        problems.append("user %s is listed in DenyUsers" % user)
    allow_users = _as_list(lowered.get("allowusers"))
    if allow_users and not _matches_any(user, allow_users):
        problems.append("user %s is not in AllowUsers (%s)" % (user, " ".join(allow_users)))
    deny_groups = _as_list(lowered.get("denygroups"))
    denied = [group for group in groups if _matches_any(group, deny_groups)]
    if denied:
        problems.append("user %s is in a DenyGroups group (%s)" % (user, ", ".join(denied)))
    allow_groups = _as_list(lowered.get("allowgroups"))
    if allow_groups and not any(_matches_any(group, allow_groups) for group in groups):
        problems.append("user %s is in none of the AllowGroups groups (%s); its groups: %s"
                        % (user, " ".join(allow_groups), ", ".join(sorted(groups)) or "none"))
    if user == "root" and str(lowered.get("permitrootlogin", "")).lower() == "no":
        problems.append("user root would be refused by PermitRootLogin no")
    return problems


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value]
    return str(value).split()


def _matches_any(name, patterns):
    return any(_pattern_regex(pattern).match(name) for pattern in patterns)


def _pattern_regex(pattern):
    pattern = pattern.split("@", 1)[0]  # user@host patterns: the host part is not judged
    return re.compile("^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$")


def weak_moduli(text, min_bits):
    """Split a moduli file into (kept text, number of lines removed below min_bits).

    The file's fifth field is the modulus size minus one (3071 for a 3072-bit group).
    """
    kept, removed = [], 0
    for line in text.splitlines(keepends=True):
        fields = line.split()
        if len(fields) >= 7 and not line.startswith("#") and int(fields[4]) + 1 < min_bits:
            removed += 1
            continue
        kept.append(line)
    return "".join(kept), removed
