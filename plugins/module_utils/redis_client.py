# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connections shared by the Redis modules.

redis-py 4.3 (Debian 12's python3-redis) and newer releases behave the same for what the
modules use: plain commands through ``execute_command``, pipelines with and without
MULTI/EXEC, and replies decoded to text. Newer releases speak RESP3 unless told
otherwise; the modules ask for RESP2 so that every reply keeps one shape, and turn
retries off so that a refused login or a dropped connection fails at once and a
transaction is never sent twice.
"""

from __future__ import annotations

import hashlib
import inspect
import ipaddress
import re

try:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry
except ImportError:  # reported by require_redis(), never at import time
    redis = None

MISSING_LIBRARY = ("this module needs redis-py on the Redis host "
                   "(Debian: apt install python3-redis)")
HEX_HASH = re.compile(r"\b[0-9a-fA-F]{64}\b")
LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


def connection_argument_spec():
    """The connection options every Redis module of the collection takes."""
    return dict(
        login_host=dict(type="str", default="127.0.0.1"),
        login_port=dict(type="int", default=6379),
        login_unix_socket=dict(type="path"),
        login_user=dict(type="str"),
        login_password=dict(type="str", no_log=True),
        tls=dict(type="bool", default=False),
        ca_cert=dict(type="path"),
        client_cert=dict(type="path"),
        client_key=dict(type="path", no_log=False),
        tls_check_hostname=dict(type="bool", default=True),
        connect_timeout=dict(type="int", default=10),
    )


def require_redis(module):
    """Fail with a clear message when the target has no redis-py."""
    if redis is None:
        module.fail_json(msg=MISSING_LIBRARY)


def connect(params, user=None, password=None):
    """A client logged in with the module's options, or as ``user`` when given."""
    options = dict(
        username=user or params["login_user"],
        password=password if user else params["login_password"],
        socket_timeout=params["connect_timeout"],
        socket_connect_timeout=params["connect_timeout"],
        decode_responses=True,
        retry=Retry(NoBackoff(), 0),
    )
    if speaks_resp3():
        options["protocol"] = 2
    if params["login_unix_socket"]:
        options["unix_socket_path"] = params["login_unix_socket"]
    else:
        options.update(host=params["login_host"], port=params["login_port"])
        if params["tls"]:
            options.update(ssl=True, ssl_ca_certs=params["ca_cert"],
                           ssl_certfile=params["client_cert"],
                           ssl_keyfile=params["client_key"],
                           ssl_check_hostname=params["tls_check_hostname"])
    return redis.Redis(**options)


def speaks_resp3():
    """Whether this redis-py takes a protocol option (5.0 and later)."""
    return "protocol" in inspect.signature(redis.Redis.__init__).parameters


def login_name(params):
    """The ACL user the module's connection is authenticated as."""
    return params["login_user"] or "default"


def server_is_local(params):
    """True when the server runs on the host the module runs on, so its files are here."""
    if params["login_unix_socket"]:
        return True
    host = params["login_host"]
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_pipeline(client, commands, transaction=False):
    """Send ``commands`` (tuples of words) in one round trip; errors come back as values."""
    pipeline = client.pipeline(transaction=transaction)
    for command in commands:
        pipeline.execute_command(*command)
    return pipeline.execute(raise_on_error=False)


def is_error(reply):
    return isinstance(reply, Exception)


def error_text(error):
    """Redis's own message, first line only, with anything that looks like a hash hidden."""
    text = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return HEX_HASH.sub("<hash>", text)


def sha256_hex(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
