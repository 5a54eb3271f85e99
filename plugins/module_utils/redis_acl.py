# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redis ACL users as data: read from ACL LIST, declared by a playbook, compared.

Redis does not keep command rules as they were written: 7.0 rebuilds them from a bitmap
(``+@read -@dangerous`` comes back as ``+@read -keys -sort_ro``) and later releases keep
them in yet another form. Comparing rule text would report a change on every run.
Instead both sides are evaluated into the set of commands they allow, with the server's
own command table (``ACL CAT`` for every category), which is read-only and works in
check mode. Passwords, key and channel patterns and flags are compared as sets.
"""

from __future__ import annotations

import re

from ansible_collections.groundwork.erp_baseline.plugins.module_utils.redis_client import (
    sha256_hex)

HASH_FORM = re.compile(r"^#[0-9a-fA-F]{64}$")
KEY_TOKEN = re.compile(r"^(?:%(?P<perms>[RW]+))?~(?P<pattern>.*)$")
READ_WRITE = frozenset("RW")
FULL_ACCESS = ("+@all", "allcommands")
NO_ACCESS = ("-@all", "nocommands")


class UnknownRule(ValueError):
    """A command rule naming no command or category of this server."""


class FirstArgumentRule(ValueError):
    """A rule on a command's first argument (``+select|0``), which is not modelled."""


def password_hash(value):
    """The SHA-256 hex Redis stores: a ready ``#<64 hex>`` as it is, anything else hashed."""
    if HASH_FORM.match(value):
        return value[1:].lower()
    return sha256_hex(value)


def split_words(line):
    """ACL LIST words; a selector in parentheses stays one word."""
    words, depth, current = [], 0, []
    for char in line:
        if char == " " and depth == 0:
            if current:
                words.append("".join(current))
            current = []
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current.append(char)
    if current:
        words.append("".join(current))
    return words


class AclUser(object):
    """One user's rules, as a set-like model that compares equal whatever their order."""

    def __init__(self, name):
        self.name = name
        self.enabled = False
        self.nopass = False
        self.flags = set()
        self.passwords = set()
        self.keys = {}
        self.channels = set()
        self.commands = []
        self.selectors = []
        self.other = []
        # Declared users only: the pattern words to write, in the order given.
        self.key_words = []
        self.channel_words = []

    def add_key(self, pattern, perms=READ_WRITE):
        self.keys[pattern] = frozenset(self.keys.get(pattern, frozenset()) | perms)

    def has_all_keys(self):
        return self.keys.get("*") == READ_WRITE

    def covers_key(self, pattern, perms):
        return self.has_all_keys() or perms <= self.keys.get(pattern, frozenset())

    def covers_channel(self, pattern):
        return "*" in self.channels or pattern in self.channels


def parse_acl_line(line):
    """An AclUser from one ``ACL LIST`` (or aclfile) line."""
    words = split_words(line.strip())
    if len(words) < 2 or words[0] != "user":
        raise ValueError("not an ACL user line: %r" % line[:40])
    user = AclUser(words[1])
    for word in words[2:]:
        read_word(user, word)
    return user


def read_word(user, word):
    """Take one word of an ACL line into ``user``; words this model does not know are kept
    in ``other``, so that an exact comparison sees them as a difference."""
    key = KEY_TOKEN.match(word)
    if word in ("on", "off"):
        user.enabled = word == "on"
    elif word == "nopass":
        user.nopass = True
    elif word in ("sanitize-payload", "skip-sanitize-payload"):
        user.flags.add(word)
    elif word.startswith("#"):
        user.passwords.add(word[1:])
    elif key:
        user.add_key(key.group("pattern"), frozenset(key.group("perms") or "RW"))
    elif word == "allkeys":
        user.add_key("*")
    elif word.startswith("&"):
        user.channels.add(word[1:])
    elif word == "allchannels":
        user.channels.add("*")
    elif word == "resetchannels":
        return
    elif word[:1] in ("+", "-") or word in FULL_ACCESS + NO_ACCESS:
        user.commands.append(word.lower())
    elif word.startswith("("):
        user.selectors.append(word)
    else:
        user.other.append(word)


def parse_acl_list(lines):
    users = {}
    for line in lines:
        user = parse_acl_line(line)
        users[user.name] = user
    return users


# The server's command table


class CommandTable(object):
    """The server's commands and categories, to evaluate rules without sending them.

    Rules act on a bitmap with one bit per command or subcommand; +@all also lets the user
    run commands added later (a module loaded afterwards). ``allowed`` mirrors that:
    (future commands allowed, frozenset of commands and subcommands allowed).
    """

    def __init__(self, categories):
        names = set()
        for members in categories.values():
            names.update(members)
        self.containers = {name.split("|", 1)[0] for name in names if "|" in name}
        self.commands = frozenset(names - self.containers)
        self.categories = {category: frozenset(members) & self.commands
                           for category, members in categories.items()}

    def members(self, body):
        """The commands a rule body (``@read``, ``get``, ``config|get``) stands for."""
        if body.startswith("@"):
            if body == "@all":
                return self.commands
            if body[1:] in self.categories:
                return self.categories[body[1:]]
        elif body in self.containers:
            return frozenset(name for name in self.commands
                             if name.startswith(body + "|"))
        elif body in self.commands:
            return frozenset([body])
        elif "|" in body and body.split("|", 1)[0] in self.commands:
            raise FirstArgumentRule(body)
        raise UnknownRule(body)

    def allowed(self, rules):
        """What ``rules`` allow, applied in order from nothing allowed."""
        future, allowed = False, set()
        for rule in rules:
            rule = rule.lower()
            if rule in FULL_ACCESS:
                future, allowed = True, set(self.commands)
            elif rule in NO_ACCESS:
                future, allowed = False, set()
            elif rule[:1] == "+":
                allowed |= self.members(rule[1:])
            elif rule[:1] == "-":
                allowed -= self.members(rule[1:])
            else:
                raise UnknownRule(rule)
        return future, frozenset(allowed)

    def leaf(self, command, subcommand=None):
        """The table's name for a command: ``config|set`` where subcommands exist."""
        if subcommand and "%s|%s" % (command, subcommand) in self.commands:
            return "%s|%s" % (command, subcommand)
        return command


def table_from_replies(categories, replies):
    """A CommandTable from ``ACL CAT`` and the ``ACL CAT <category>`` replies in order."""
    return CommandTable({category: [str(name).lower() for name in members]
                         for category, members in zip(categories, replies)})


# Declared users and what differs


class Change(object):
    """One user to write: the words after its name, why, and how it ends."""

    def __init__(self, desired, current, words, reasons):
        self.name = desired.name
        self.desired = desired
        self.before = current
        self.words = words
        self.reasons = reasons
        self.after, self.after_rules = final_state(current, desired, words, reasons)


def declared_user(spec):
    """The declared user as a model, with the words to write in declared order."""
    user = AclUser(spec["name"])
    user.enabled = spec.get("enabled", True)
    user.passwords = {password_hash(value) for value in spec.get("passwords") or []}
    for option, perms, prefix in (("keys", "RW", "~"), ("read_keys", "R", "%R~"),
                                  ("write_keys", "W", "%W~")):
        for pattern in spec.get(option) or []:
            user.add_key(pattern, frozenset(perms))
            user.key_words.append(prefix + pattern)
    if user.has_all_keys():
        user.keys = {"*": READ_WRITE}
    user.channels = set(spec.get("channels") or [])
    if "*" in user.channels:
        user.channels = {"*"}
    user.channel_words = ["&" + pattern for pattern in spec.get("channels") or []]
    user.commands = [rule.lower() for rule in spec.get("commands") or []]
    return user


def declared_default(default_user):
    return declared_user(dict(name="default", enabled=default_user["state"] == "password",
                              passwords=default_user["passwords"]))


def unique(words):
    """The words without repeats, in their first order."""
    kept = []
    for word in words:
        if word not in kept:
            kept.append(word)
    return kept


def exact_words(desired):
    words = ["reset", "on" if desired.enabled else "off"]
    words += ["#" + value for value in sorted(desired.passwords)]
    words += unique(desired.key_words) + ["resetchannels"] + unique(desired.channel_words)
    return words + desired.commands


def allowed_or_none(table, rules):
    """What rules allow, or None for rules the table cannot model (they differ)."""
    try:
        return table.allowed(rules)
    except (UnknownRule, FirstArgumentRule):
        return None


def exact_reasons(table, current, desired):
    """What differs between a user and its declaration, as short words."""
    if current is None:
        return ["missing"]
    checks = (("enabled", current.enabled == desired.enabled),
              ("passwords", current.passwords == desired.passwords and not current.nopass),
              ("keys", current.keys == desired.keys),
              ("channels", current.channels == desired.channels),
              ("flags", "skip-sanitize-payload" not in current.flags),
              ("selectors", not current.selectors and not current.other),
              ("commands", allowed_or_none(table, current.commands)
               == table.allowed(["-@all"] + desired.commands)))
    return [name for name, same in checks if not same]


def covered_key(current, word):
    match = KEY_TOKEN.match(word)
    return current.covers_key(match.group("pattern"), frozenset(match.group("perms") or "RW"))


def additive_words(table, current, desired):
    """(words that add what is missing, reasons); the declared rules go last, as a block."""
    words, reasons = [], []
    if current.enabled != desired.enabled:
        words.append("on" if desired.enabled else "off")
        reasons.append("enabled")
    missing = {
        "passwords": ["#" + value for value in sorted(desired.passwords - current.passwords)],
        "keys": [word for word in unique(desired.key_words) if not covered_key(current, word)],
        "channels": [word for word in unique(desired.channel_words)
                     if not current.covers_channel(word[1:])],
    }
    for reason in ("passwords", "keys", "channels"):
        if missing[reason]:
            words += missing[reason]
            reasons.append(reason)
    before = allowed_or_none(table, current.commands)
    if desired.commands and (before is None or before != allowed_or_none(
            table, current.commands + desired.commands)):
        words += desired.commands
        reasons.append("commands")
    return words, reasons


def final_state(current, desired, words, reasons):
    """(the user after ``words``, its command rules), for the login checks."""
    if current is None or "reset" in words:
        return desired, ["-@all"] + desired.commands
    after = AclUser(current.name)
    after.enabled = desired.enabled
    after.nopass = current.nopass and not desired.passwords
    after.passwords = current.passwords | desired.passwords
    return after, current.commands + (desired.commands if "commands" in reasons else [])


def plan_user(table, current, desired, exact):
    """A Change for one declared user, or None when it already matches."""
    if exact or current is None:
        words, reasons = exact_words(desired), exact_reasons(table, current, desired)
    else:
        words, reasons = additive_words(table, current, desired)
    return Change(desired, current, words, reasons) if reasons else None


# Output


def mask_passwords(words, known=()):
    """Words with each password hash shown as ``<hash>`` (or ``<new-hash>``)."""
    shown = []
    for word in words:
        if word.startswith("#"):
            shown.append("<hash>" if word[1:] in known else "<new-hash>")
        else:
            shown.append(word)
    return shown
