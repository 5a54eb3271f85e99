# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real Redis 7 servers for the module tests, started by the session on loopback.

The main server keeps its users in an aclfile that lists only the admin the modules log
in as, and sets requirepass as well: exactly the setup where Redis recreates the default
user with nopass and ignores requirepass (C-11). Every test starts from that file again.
It also answers on a unix socket and on a TLS port that asks for a client certificate,
with a CA and certificates made for the session. Further servers (a weak one for the
audit, throw-away ones) come from ``redis_factory`` and end with the session too.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile

import pytest
import redis
from redis_servers import (ADMIN_LINE, REQUIREPASS, WEAK_PASSWORD, WEAK_USER, RedisServer,
                           user_line, write_certificates)


@pytest.fixture(scope="session")
def redis_factory():
    """start(settings, acl_lines, tls=False) -> a running RedisServer, stopped at the end."""
    servers, folders = [], []

    def start(settings=None, acl_lines=None, tls=False, **login):
        top = pathlib.Path(tempfile.mkdtemp(prefix="erp-baseline-redis-"))
        folders.append(top)
        tls_folder = None
        if tls:
            tls_folder = top / "tls"
            tls_folder.mkdir()
            write_certificates(tls_folder)
        server = RedisServer(top, settings or {}, acl_lines, tls_folder)
        servers.append(server)
        return server.start(**login)

    try:
        yield start
    finally:
        for server in servers:
            server.stop()
        for top in folders:
            shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server(redis_factory):
    """The session's main server: C-11's aclfile without default, plus requirepass."""
    server = redis_factory({"requirepass": REQUIREPASS, "maxmemory": "64mb"},
                           [ADMIN_LINE], tls=True)
    server.pristine_acl = ADMIN_LINE
    return server


@pytest.fixture
def acl_server(redis_server):
    """The main server, empty, with its users reloaded from the original aclfile."""
    redis_server.aclfile.write_text(redis_server.pristine_acl)
    try:
        redis_server.admin().execute_command("ACL LOAD")
    except redis.ConnectionError:
        # ACL LOAD drops the clients of every user it changed, this one included when a
        # test changed the admin; the users are loaded by then.
        pass
    redis_server.admin().flushall()
    return redis_server


@pytest.fixture(scope="session")
def weak_redis(redis_factory):
    """Everything the audit should flag: protected-mode off, no memory limit, the default
    user recreated with nopass beside requirepass, an application user with +@all on ~*,
    and files open to everyone. It still listens on loopback only."""
    server = redis_factory({"protected-mode": "no", "maxmemory": "0",
                            "requirepass": REQUIREPASS},
                           [user_line(WEAK_USER, WEAK_PASSWORD, "~* &* +@all")],
                           user=WEAK_USER, password=WEAK_PASSWORD)
    os.chmod(server.config, 0o644)
    os.chmod(server.aclfile, 0o644)
    os.chmod(server.data, 0o777)
    return server
