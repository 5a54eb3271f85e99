#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Controls this module reports (titles in controls/catalog.yml):
#   GW-REDIS-010  declared ACL users hold exactly their declared rules
#   GW-REDIS-011  the default user is disabled or needs a password
#   GW-REDIS-012  no ACL user but the declared and protected ones
#   GW-REDIS-013  the running ACL users are persisted

from __future__ import annotations

DOCUMENTATION = r"""
---
module: redis_acl
short_description: All Redis ACL users of one server, declared in one call
version_added: 0.1.0
description:
  - Brings every declared ACL user to its declared passwords, key and channel patterns
    and command rules, manages the C(default) user explicitly, optionally removes users
    nobody declared, and persists the result to the aclfile or the config file.
  - Reads every user with one C(ACL LIST) and the server's command table with C(ACL CAT),
    compares, and writes all changed users with C(ACL SETUSER) in one MULTI/EXEC
    transaction. A re-run with nothing to change sends no write at all.
  - Command rules are compared by what they allow, not by their text. Redis rewrites
    rules in its own form (7.0 turns C(+@read -@dangerous) into C(+@read -keys -sort_ro));
    the module evaluates both the declared and the stored rules into the set of commands
    they allow, using the server's own categories, so the comparison is exact, stable
    across Redis versions and needs no write, which makes it work in check mode.
  - Passwords are sent and stored only as SHA-256 hashes (C(#<64 hex>)). A plaintext
    password is hashed by the module before anything is sent; Redis never sees it.
  - Before the transaction, a real run has Redis check every changed user's rules on a
    throw-away user that stays disabled, and deletes it again. If Redis refuses any
    rule, the module fails with Redis's own message and no user is changed. Redis does
    not roll back a MULTI/EXEC whose commands fail, so this check is what makes the
    transaction all or nothing.
  - The C(default) user is always written explicitly, so a server whose aclfile does not
    list it (where Redis would recreate it with C(nopass) and ignore C(requirepass))
    ends with C(default) disabled or behind a password, and an unauthenticated client
    gets NOAUTH.
options:
  users:
    description:
      - The ACL users to manage, C(default) excepted (see O(default_user)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: User name; no spaces.
        type: str
        required: true
      enabled:
        description: The user may log in (C(on)) or not (C(off)).
        type: bool
        default: true
      passwords:
        description:
          - Plaintext passwords, or ready SHA-256 hashes written C(#<64 hex>). Either is
            sent and stored as its hash only.
        type: list
        elements: str
        default: []
      keep_passwords:
        description:
          - Keep the password hashes the user has on the server and ignore O(users[].passwords),
            for a user whose password the controller does not know.
        type: bool
        default: false
      keys:
        description: Key patterns the user may read and write, such as C(tenant_a:*).
        type: list
        elements: str
        default: []
      read_keys:
        description: Key patterns the user may only read (written C(%R~pattern)).
        type: list
        elements: str
        default: []
      write_keys:
        description: Key patterns the user may only write (written C(%W~pattern)).
        type: list
        elements: str
        default: []
      channels:
        description: Pub/Sub channel patterns (written C(&pattern)).
        type: list
        elements: str
        default: []
      commands:
        description:
          - Command rules in order, such as C(+@read), C(-@dangerous), C(-keys), C(+get),
            C(+config|get). With O(rules_mode=exact) they apply after C(-@all).
        type: list
        elements: str
        default: []
  default_user:
    description: How the C(default) user ends.
    type: dict
    default: {state: disabled}
    suboptions:
      state:
        description:
          - V(disabled) - off, no password, no keys, no channels, no commands.
          - V(password) - on with the given passwords, no keys, no channels, no commands,
            so that a client must authenticate as some user before it can do anything.
        type: str
        choices: [disabled, password]
        default: disabled
      passwords:
        description: Passwords or C(#<64 hex>) hashes, with O(default_user.state=password).
        type: list
        elements: str
        default: []
  rules_mode:
    description:
      - V(exact) - each declared user ends with exactly the declared rules (written after
        C(reset)); anything else it had is removed.
      - V(additive) - only adds the passwords, patterns and command rules that are missing
        and sets C(on) or C(off); nothing is reset. The C(default) user is always exact.
    type: str
    choices: [exact, additive]
    default: exact
  prune:
    description: Delete ACL users that are neither declared nor protected.
    type: bool
    default: false
  protected_users:
    description:
      - Users O(prune) never deletes. C(default) and the login user are always protected.
    type: list
    elements: str
    default: [default]
  audit:
    description: Report differences as findings and change nothing.
    type: bool
    default: false
  users_state_only:
    description:
      - Return RV(users_with_password) and change nothing. The action plugin of the same
        name uses it to learn which users already have a password; playbooks do not.
    type: bool
    default: false
  persist:
    description:
      - V(auto) - C(ACL SAVE) when the server has an aclfile, C(CONFIG REWRITE) otherwise.
      - V(aclfile) - C(ACL SAVE); fails before any change if the server has no aclfile.
      - V(rewrite) - C(CONFIG REWRITE); fails before any change if the server has an
        aclfile (CONFIG REWRITE does not write users then) or no config file.
      - V(none) - leave persistence to someone else; changes are lost on restart.
      - The module also persists when nothing changed but the file on disk no longer
        holds what the server runs (read when the server is on the module's host).
    type: str
    choices: [auto, aclfile, rewrite, none]
    default: auto
extends_documentation_fragment:
  - groundwork.erp_baseline.redis
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - Check mode and O(audit) do not send the rules to Redis. They check each command and
    category against the server's command table; anything else Redis would refuse (for
    example a key pattern after C(~*)) shows only in a real run, with Redis's message.
  - The diff shows the ACL lines of changed and removed users with each password hash
    replaced by C(<hash>), and a hash that is new by C(<new-hash>), so the number of
    passwords and a rotation are visible but never a hash or a plaintext. The C(after)
    side shows the rules as declared, not in the form Redis will print them.
  - Rules on a command's first argument (C(+select|0), deprecated in Redis 7) are not
    supported. Selectors (Redis 7 rules in parentheses) are not declared by this module;
    O(rules_mode=exact) removes them.
  - If the run takes from the login user the right to run C(ACL LIST) and C(ACL SAVE)
    (or C(CONFIG REWRITE)), for example when it logs in as C(default) on a fresh server
    and disables it, the module finishes as a declared user that keeps those rights
    (enabled, with a password). It gives that user a random temporary password hash in
    the same transaction, logs in with it, and removes it before persisting; should that
    login fail, the run fails and the next O(rules_mode=exact) run removes the hash.
    Without such a user the run is refused before anything changes, as it is when the
    login user would end disabled or without any password and no declared admin could
    log in. A new password for the login user only gives a warning; log in with it
    next time.
  - The module reads C(requirepass) only to warn when it is set; its value is never
    returned. With an aclfile, Redis ignores C(requirepass) for the C(default) user.
  - C(sanitize-payload) is left as Redis sets it; O(rules_mode=exact) removes
    C(skip-sanitize-payload).
requirements:
  - redis-py 4.3 or later on the Redis host (Debian - python3-redis)
author:
  - groundwork platform team
"""

EXAMPLES = r"""
- name: Tenant users with their own key and channel prefix; default user off
  groundwork.erp_baseline.redis_acl:
    login_user: gw_admin
    login_password: "{{ redis_admin_password }}"
    users:
      - name: gw_admin
        passwords: ["#{{ redis_admin_password | hash('sha256') }}"]
        keys: ["*"]
        channels: ["*"]
        commands: ["+@all"]
      - name: tenant_a_app
        passwords: ["#{{ redis_tenant_a_password | hash('sha256') }}"]
        keys: ["tenant_a:*"]
        channels: ["tenant_a:*"]
        commands: ["+@all", "-@dangerous", "-@admin"]
    default_user:
      state: disabled
    prune: true

- name: Compare only, as evidence
  groundwork.erp_baseline.redis_acl:
    login_user: gw_admin
    login_password: "{{ redis_admin_password }}"
    users: "{{ redis_baseline_users }}"
    audit: true
  register: redis_acl_audit
"""

RETURN = r"""
users_changed:
  description: Users written, or to be written in check and audit mode; C(default) included.
  returned: always
  type: list
  elements: str
  sample: [default, tenant_a_app]
users_removed:
  description: Users deleted by O(prune), or to be deleted.
  returned: always
  type: list
  elements: str
persisted:
  description: How the users were (or would be) persisted - aclfile, rewrite or none.
  returned: always
  type: str
  sample: aclfile
commands:
  description: The write commands run, or to be run; every password hash shown as C(#<hash>).
  returned: always
  type: list
  elements: str
  sample: ["ACL SETUSER default reset off resetchannels", "ACL SAVE"]
findings:
  description: Findings for GW-REDIS-010 to GW-REDIS-013.
  returned: always
  type: list
  elements: dict
diff:
  description: ACL lines before and after, with password hashes masked.
  returned: in diff mode
  type: dict
users_with_password:
  description: Users that have at least one password on the server.
  returned: with O(users_state_only)
  type: list
  elements: str
"""

import os
import secrets

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.groundwork.erp_baseline.plugins.module_utils import redis_acl as acl
from ansible_collections.groundwork.erp_baseline.plugins.module_utils import (
    redis_client as rc)
from ansible_collections.groundwork.erp_baseline.plugins.module_utils.findings import (
    FAIL, PASS, SKIPPED, UNKNOWN, finding, settled)

SHOWN_NAMES = 20
RULE_WORDS = acl.FULL_ACCESS + acl.NO_ACCESS


class ServerState(object):
    """What the server runs, read in two round trips."""

    def __init__(self, client):
        first = rc.run_pipeline(client, [("ACL LIST",), ("ACL CAT",), ("CONFIG GET", "aclfile"),
                                         ("CONFIG GET", "requirepass"), ("INFO", "server")])
        for reply in first:
            if rc.is_error(reply):
                raise reply
        self.lines = [line.strip() for line in first[0]]
        self.users = acl.parse_acl_list(self.lines)
        self.aclfile = first[2].get("aclfile") or ""
        self.requirepass_set = bool(first[3].get("requirepass"))
        self.config_file = first[4].get("config_file") or ""
        categories = list(first[1])
        members = rc.run_pipeline(client, [("ACL CAT", category) for category in categories])
        self.table = acl.table_from_replies(categories, members)


# The plan


class Plan(object):
    """Everything a run will write, decided before anything is written."""

    def __init__(self):
        self.changes = []
        self.removed = []
        self.undeclared = []
        self.declared = []
        self.unknown_rules = {}
        self.default_change = None
        self.persist = None
        self.persist_problem = None
        self.stale = None
        self.stale_reason = None
        self.hand_over_to = None

    def change_for(self, name):
        for change in self.changes:
            if change.name == name:
                return change
        return None


def unknown_rules(module, table, desired_users):
    """Fail on first-argument rules; return {user: rule} for rules the table lacks."""
    unknown = {}
    for desired in desired_users:
        for rule in desired.commands:
            try:
                table.allowed([rule])
            except acl.FirstArgumentRule:
                module.fail_json(msg=(
                    "users: %s: %r is a rule on a first argument, which this module does "
                    "not manage; allow or deny whole commands or subcommands"
                    % (desired.name, rule)))
            except acl.UnknownRule:
                unknown.setdefault(desired.name, rule)
    return unknown


def make_plan(module, server):
    params = module.params
    exact = params["rules_mode"] == "exact"
    plan = Plan()
    plan.declared = [acl.declared_user(spec) for spec in params["users"]]
    plan.unknown_rules = unknown_rules(module, server.table, plan.declared)
    for spec, desired in zip(params["users"], plan.declared):
        current = server.users.get(desired.name)
        if spec["keep_passwords"] and current is not None:
            desired.passwords = set(current.passwords)
        if desired.name in plan.unknown_rules:
            # Only Redis can word the error; the real run asks it, check mode stops.
            plan.changes.append(acl.Change(desired, current, acl.exact_words(desired),
                                           ["invalid"]))
            continue
        change = acl.plan_user(server.table, current, desired, exact)
        if change:
            plan.changes.append(change)
    default = acl.declared_default(params["default_user"])
    plan.default_change = acl.plan_user(server.table, server.users.get("default"), default,
                                        exact=True)
    if plan.default_change:
        plan.changes.append(plan.default_change)
    keep = {desired.name for desired in plan.declared} | protected(params)
    plan.undeclared = sorted(name for name in server.users if name not in keep)
    if params["prune"]:
        plan.removed = list(plan.undeclared)
    return plan


def protected(params):
    return set(params["protected_users"]) | {"default", rc.login_name(params)}


# Login safety


def needed_rights(table, persist):
    """Commands the module still runs after the transaction."""
    rights = {table.leaf("acl", "list")}
    if persist == "aclfile":
        rights.add(table.leaf("acl", "save"))
    elif persist == "rewrite":
        rights.add(table.leaf("config", "rewrite"))
    return rights


def may_run_all(table, rules, commands):
    allowed = acl.allowed_or_none(table, rules)
    return allowed is not None and commands <= allowed[1]


def keeps_login(params, after):
    if not after.enabled:
        return False
    if params["login_password"] is None:
        return after.nopass
    return acl.password_hash(params["login_password"]) in after.passwords


def admins_after(server, plan, rights):
    """Declared users that end enabled, with a password and the rights to finish a run."""
    needed = rights | {server.table.leaf("acl", "setuser")}
    found = []
    for desired in plan.declared:
        change = plan.change_for(desired.name)
        if change is not None:
            user, rules = change.after, change.after_rules
            usable = "invalid" not in change.reasons
        else:
            user = server.users.get(desired.name)
            rules, usable = user.commands, not user.nopass
        if (usable and user.enabled and user.passwords
                and may_run_all(server.table, rules, needed)):
            found.append(desired.name)
    return found


def check_login(module, server, plan):
    """Refuse a run that would lock the module out; pick who finishes the run if needed."""
    params = module.params
    login = rc.login_name(params)
    change = plan.change_for(login)
    if change is None:
        return
    rights = needed_rights(server.table, plan.persist)
    admins = [name for name in admins_after(server, plan, rights) if name != login]
    if not may_run_all(server.table, change.after_rules, rights):
        if not admins:
            module.fail_json(msg=(
                "login user %s would lose the rights this run needs (%s) and no declared "
                "user can take over: declare an admin user (enabled, with a password, "
                "allowed the ACL commands) or log in as one; nothing was changed"
                % (login, ", ".join(sorted(rights)))))
        plan.hand_over_to = admins[0]
    if keeps_login(params, change.after):
        return
    if not (change.after.enabled and change.after.passwords) and not admins:
        module.fail_json(msg=(
            "login user %s would be left disabled or without a password and no declared "
            "admin could log in afterwards; declare its password (or keep_passwords) "
            "or another admin; nothing was changed" % login))
    module.warn("login user %s cannot log in with these credentials after this run%s"
                % (login, "; log in as %s next time" % admins[0] if admins else ""))


# Persistence


def choose_persistence(params, server):
    """(target, problem): aclfile, rewrite or None, and why it cannot be done."""
    wanted = params["persist"]
    if wanted == "none":
        return None, None
    if wanted == "auto":
        wanted = "aclfile" if server.aclfile else "rewrite"
    if wanted == "aclfile" and not server.aclfile:
        return wanted, "persist is aclfile but the server has no aclfile configured"
    if wanted == "rewrite" and server.aclfile:
        return wanted, ("persist is rewrite but the server keeps its users in %s, which "
                        "CONFIG REWRITE does not write; use aclfile or auto"
                        % server.aclfile)
    if wanted == "rewrite" and not server.config_file:
        return wanted, ("the server runs without a config file, so CONFIG REWRITE cannot "
                        "persist the users; start it with one, give it an aclfile, "
                        "or set persist to none")
    return wanted, None


def file_is_stale(params, server, target):
    """(True or False, None), or (None, why the file could not be compared)."""
    path = server.aclfile if target == "aclfile" else server.config_file
    if not rc.server_is_local(params):
        return None, "the server is not on this host, so %s was not read" % path
    if not os.path.isabs(path):
        return None, "%s is a relative path" % path
    try:
        with open(path) as handle:
            saved = {line.strip() for line in handle if line.startswith("user ")}
    except (IOError, OSError) as error:
        return None, "%s could not be read: %s" % (path, error.strerror or error)
    return saved != set(server.lines), None


def plan_persistence(module, server, plan):
    target, problem = choose_persistence(module.params, server)
    plan.persist, plan.persist_problem = target, problem
    if problem and not module.params["audit"]:
        module.fail_json(msg=problem + "; nothing was changed")
    if target and not problem:
        plan.stale, plan.stale_reason = file_is_stale(module.params, server, target)


def needs_persisting(plan):
    if not plan.persist or plan.persist_problem:
        return False
    return bool(plan.changes or plan.removed or plan.stale)


# Writing


def validate_with_redis(module, client, plan):
    """Let Redis judge every changed user's rules on a disabled throw-away user."""
    probe = "gw-rule-check-" + secrets.token_hex(8)
    commands = [("ACL SETUSER", probe, "reset") + tuple(
        word for word in change.words if word not in ("reset", "on"))
        for change in plan.changes]
    replies = rc.run_pipeline(client, commands + [("ACL DELUSER", probe)])
    refused = ["%s: %s" % (change.name, rc.error_text(reply))
               for change, reply in zip(plan.changes, replies) if rc.is_error(reply)]
    if refused:
        module.fail_json(msg="Redis refused the rules of %s; no user was changed"
                         % "; ".join(refused))
    if plan.unknown_rules:
        module.fail_json(msg=unknown_rules_message(plan) + "; no user was changed")


def unknown_rules_message(plan):
    return ("the server's command table lists no command or category for %s"
            % ", ".join("%r (user %s)" % (rule, name)
                        for name, rule in sorted(plan.unknown_rules.items())))


def write_commands(plan, login, temporary=None):
    """The transaction; ``temporary`` is the hand-over hash added to the successor.

    Redis checks each queued command again at EXEC against the rules of that moment, so
    the login user's own change comes last: nothing after it could lose its permission.
    """
    commands, own = [], []
    for change in plan.changes:
        extra = ("#" + temporary,) if temporary and change.name == plan.hand_over_to else ()
        command = ("ACL SETUSER", change.name) + tuple(change.words) + extra
        (own if change.name == login else commands).append(command)
    if temporary and plan.change_for(plan.hand_over_to) is None:
        commands.append(("ACL SETUSER", plan.hand_over_to, "#" + temporary))
    if plan.removed:
        commands.append(("ACL DELUSER",) + tuple(plan.removed))
    return commands + own


def apply_changes(module, client, plan):
    """Run the transaction; return the client that holds the rights to finish the run."""
    secret = temporary = None
    if plan.hand_over_to:
        secret = secrets.token_urlsafe(32)
        temporary = rc.sha256_hex(secret)
    commands = write_commands(plan, rc.login_name(module.params), temporary)
    replies = rc.run_pipeline(client, commands, transaction=True)
    failed = [rc.error_text(reply) for reply in replies if rc.is_error(reply)]
    if failed:
        module.fail_json(msg="Redis refused part of the transaction, the rest was applied: "
                         + "; ".join(failed))
    if not plan.hand_over_to:
        return client
    successor = rc.connect(module.params, user=plan.hand_over_to, password=secret)
    successor.execute_command("ACL SETUSER", plan.hand_over_to, "!" + temporary)
    return successor


def verify(module, client, server, plan):
    """Warn about any written user that Redis keeps differently than declared."""
    users = acl.parse_acl_list(client.execute_command("ACL LIST"))
    exact = module.params["rules_mode"] == "exact"
    for change in plan.changes:
        again = acl.plan_user(server.table, users.get(change.name), change.desired,
                              exact or change.name == "default")
        if again is not None:
            module.warn("Redis keeps user %s differently than declared (%s); the next run "
                        "will report it changed" % (change.name, ", ".join(again.reasons)))


def persist(module, client, plan):
    try:
        client.execute_command("ACL SAVE" if plan.persist == "aclfile" else "CONFIG REWRITE")
    except rc.redis.RedisError as error:
        module.fail_json(msg="the users were changed but not persisted: %s"
                         % rc.error_text(error), users_changed=names_of(plan))


def run(module, client, server, plan):
    """Validate, write, verify and persist; return whether anything was persisted."""
    if plan.changes:
        validate_with_redis(module, client, plan)
    if plan.changes or plan.removed:
        client = apply_changes(module, client, plan)
        verify(module, client, server, plan)
    if needs_persisting(plan):
        persist(module, client, plan)
        return True
    return False


# Output


def masked(words, known):
    return " ".join(acl.mask_passwords(words, known))


def current_line(server, name):
    for line in server.lines:
        if acl.split_words(line)[1] == name:
            return line
    return None


def diff_view(server, plan):
    """ACL lines of changed and removed users; the after side as declared."""
    before, after = [], []
    for change in plan.changes:
        known = change.before.passwords if change.before else set()
        line = current_line(server, change.name)
        if line:
            before.append(masked(acl.split_words(line), known))
        if change.words[:1] == ["reset"]:
            after.append(masked(["user", change.name] + change.words[1:], known))
        else:
            after.append(masked(acl.split_words(line) + change.words, known))
    for name in plan.removed:
        before.append(masked(acl.split_words(current_line(server, name)),
                             server.users[name].passwords))
    return dict(before="".join(line + "\n" for line in sorted(before)),
                after="".join(line + "\n" for line in sorted(after)))


def command_texts(params, plan, persisted):
    texts = [" ".join(("#<hash>" if word.startswith("#") else word) for word in command)
             for command in write_commands(plan, rc.login_name(params))]
    if persisted:
        texts.append("ACL SAVE" if plan.persist == "aclfile" else "CONFIG REWRITE")
    return texts


def names_of(plan):
    return sorted(change.name for change in plan.changes)


def shown(names):
    if len(names) <= SHOWN_NAMES:
        return names
    return names[:SHOWN_NAMES] + ["and %d more" % (len(names) - SHOWN_NAMES)]


def describe_default(user):
    parts = ["on" if user.enabled else "off"]
    if user.nopass:
        parts.append("nopass")
    parts.append("%d password(s)" % len(user.passwords))
    parts.append(" ".join(user.commands))
    return ", ".join(parts)


def findings(params, server, plan):
    audit = params["audit"]
    users = [change for change in plan.changes if change.name != "default"]
    observed = (shown(["%s (%s)" % (change.name, ", ".join(change.reasons))
                       for change in users])
                or "users checked: %d" % len(plan.declared))
    expected = ("declared rules exactly" if params["rules_mode"] == "exact"
                else "declared rules present")
    default_expected = ("off, no password, no commands"
                        if params["default_user"]["state"] == "disabled"
                        else "on, password, no commands")
    return [
        settled("GW-REDIS-010", not users, audit, observed, expected),
        settled("GW-REDIS-011", plan.default_change is None, audit,
                describe_default(server.users["default"]), default_expected),
        undeclared_finding(params, plan),
        persisted_finding(params, plan),
    ]


def undeclared_finding(params, plan):
    expected = "only declared and protected users"
    if not plan.undeclared:
        return finding("GW-REDIS-012", PASS, observed="no undeclared user", expected=expected)
    if not params["prune"]:
        return finding("GW-REDIS-012", SKIPPED, observed=shown(plan.undeclared),
                       expected=expected, reason="prune is off")
    return settled("GW-REDIS-012", False, params["audit"], shown(plan.undeclared), expected)


def persisted_finding(params, plan):
    if not plan.persist:
        return finding("GW-REDIS-013", SKIPPED, reason="persist is none")
    if plan.persist_problem:
        return finding("GW-REDIS-013", FAIL, reason=plan.persist_problem)
    expected = "the %s holds the running users" % (
        "aclfile" if plan.persist == "aclfile" else "config file")
    if plan.stale is None and not (plan.changes or plan.removed):
        return finding("GW-REDIS-013", UNKNOWN, reason=plan.stale_reason)
    observed = "out of date" if needs_persisting(plan) else "up to date"
    return settled("GW-REDIS-013", not needs_persisting(plan), params["audit"], observed,
                   expected)


# Arguments


def user_options():
    listed = dict(type="list", elements="str", default=[])
    return dict(
        name=dict(type="str", required=True),
        enabled=dict(type="bool", default=True),
        passwords=dict(type="list", elements="str", default=[], no_log=True),
        keep_passwords=dict(type="bool", default=False, no_log=False),
        keys=dict(listed, no_log=False),
        read_keys=dict(listed, no_log=False),
        write_keys=dict(listed, no_log=False),
        channels=dict(listed),
        commands=dict(listed),
    )


def argument_spec():
    spec = dict(
        users=dict(type="list", elements="dict", default=[], options=user_options()),
        default_user=dict(type="dict", default=dict(state="disabled"), options=dict(
            state=dict(type="str", default="disabled", choices=["disabled", "password"]),
            passwords=dict(type="list", elements="str", default=[], no_log=True),
        )),
        rules_mode=dict(type="str", default="exact", choices=["exact", "additive"]),
        prune=dict(type="bool", default=False),
        protected_users=dict(type="list", elements="str", default=["default"]),
        audit=dict(type="bool", default=False),
        users_state_only=dict(type="bool", default=False),
        persist=dict(type="str", default="auto",
                     choices=["auto", "aclfile", "rewrite", "none"]),
    )
    spec.update(rc.connection_argument_spec())
    return spec


def bad_word(value):
    return not value or any(char.isspace() for char in value)


def check_user(module, spec):
    name = spec["name"]
    if bad_word(name):
        module.fail_json(msg="users: %r is not a user name (empty or with spaces)" % name)
    if name == "default":
        module.fail_json(msg="users: manage the default user with default_user")
    for option in ("keys", "read_keys", "write_keys", "channels"):
        for pattern in spec[option]:
            if bad_word(pattern):
                module.fail_json(msg="users: %s: %s: %r is empty or has spaces"
                                 % (name, option, pattern))
    if any(not value for value in spec["passwords"]):
        module.fail_json(msg="users: %s: a password is empty" % name)
    for rule in spec["commands"]:
        if bad_word(rule) or not (rule[:1] in ("+", "-") or rule.lower() in RULE_WORDS):
            module.fail_json(msg=(
                "users: %s: commands: %r is not a command rule (+command, -command, "
                "+@category, -@category, +command|subcommand)" % (name, rule)))


def check_arguments(module):
    params = module.params
    names = [spec["name"] for spec in params["users"]]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        module.fail_json(msg="users: declared more than once: %s" % ", ".join(twice))
    for spec in params["users"]:
        check_user(module, spec)
    default = params["default_user"]
    if default["state"] == "password" and not default["passwords"]:
        module.fail_json(msg="default_user: state password needs passwords")
    if default["state"] == "disabled" and default["passwords"]:
        module.fail_json(msg="default_user: passwords are only used with state password")


# Main


def users_with_password(client):
    users = acl.parse_acl_list(client.execute_command("ACL LIST"))
    return sorted(name for name, user in users.items() if user.passwords)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    check_arguments(module)
    rc.require_redis(module)
    params = module.params
    dry_run = module.check_mode or params["audit"]
    try:
        client = rc.connect(params)
        if params["users_state_only"]:
            module.exit_json(changed=False, users_with_password=users_with_password(client))
        server = ServerState(client)
        plan = make_plan(module, server)
        if plan.unknown_rules and dry_run:
            module.fail_json(msg=unknown_rules_message(plan) + " (check and audit mode do "
                             "not send rules to Redis)")
        plan_persistence(module, server, plan)
        check_login(module, server, plan)
        if server.requirepass_set:
            module.warn("requirepass is set; this module manages the default user, and "
                        "with an aclfile Redis ignores requirepass: remove it from the "
                        "config")
        persisted = needs_persisting(plan) if dry_run else run(module, client, server, plan)
    except rc.redis.RedisError as error:
        module.fail_json(msg="Redis: %s" % rc.error_text(error))
    result = dict(
        changed=bool(plan.changes or plan.removed or persisted) and not params["audit"],
        users_changed=names_of(plan), users_removed=plan.removed,
        persisted=plan.persist if persisted else "none",
        commands=command_texts(params, plan, persisted),
        findings=findings(params, server, plan))
    if module._diff:
        result["diff"] = diff_view(server, plan)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
