# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real PostgreSQL 15 for the module tests, started for the session on loopback.

initdb and the server refuse to run as root, so the cluster belongs to Debian's
`postgres` user. Local socket connections are trusted (the modules connect as the
superuser `postgres` as they do on a host through peer authentication); TCP on
127.0.0.1 takes SCRAM over TLS, with a certificate made for the session.
"""

from __future__ import annotations

import datetime
import os
import pwd
import shutil
import socket
import subprocess
import tempfile

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

BIN = "/usr/lib/postgresql/15/bin"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_postgres(*command, **options):
    return subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True,
                          capture_output=True, text=True, **options)


def write_certificate(folder):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
        .sign(key, hashes.SHA256()))
    (folder / "server.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    os.chmod(folder / "server.key", 0o600)


class Server(object):
    """The session's cluster: where it lives and how to reach it."""

    def __init__(self, top):
        self.top = top
        self.data = top / "data"
        self.socket_dir = str(top)
        self.port = free_port()
        self.hba = self.data / "pg_hba.conf"
        # The drop-in postgresql_config owns, included last as Debian's conf.d is.
        self.dropin = self.data / "groundwork.conf"

    def login(self, **extra):
        """Module connection options for the superuser over the local socket."""
        return dict(login_host=self.socket_dir, login_port=self.port, **extra)

    def connect(self, dbname="postgres", **options):
        options.setdefault("host", self.socket_dir)
        options.setdefault("user", "postgres")
        return psycopg.connect(dbname=dbname, port=self.port, autocommit=True, **options)

    def query(self, statement, params=None, dbname="postgres"):
        with self.connect(dbname) as connection:
            return connection.execute(statement, params).fetchall()

    def execute(self, statement, dbname="postgres"):
        with self.connect(dbname) as connection:
            connection.execute(statement)


@pytest.fixture(scope="session")
def postgres():
    top = tempfile.mkdtemp(prefix="erp-baseline-pg-")
    postgres_user = pwd.getpwnam("postgres")
    os.chown(top, postgres_user.pw_uid, postgres_user.pw_gid)
    server = Server(__import__("pathlib").Path(top))
    as_postgres(BIN + "/initdb", "-D", str(server.data), "-U", "postgres", "-E", "UTF8",
                "--auth-local=trust", "--auth-host=scram-sha-256")
    write_certificate(server.data)
    for name in ("server.crt", "server.key"):
        os.chown(server.data / name, postgres_user.pw_uid, postgres_user.pw_gid)
    with open(server.data / "postgresql.conf", "a") as conf:
        conf.write("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\n"
                   "ssl = on\nfsync = off\nlog_min_messages = warning\n"
                   "include_if_exists = '%s'\n"
                   % (server.port, server.socket_dir, server.dropin))
    as_postgres(BIN + "/pg_ctl", "-D", str(server.data), "-l", str(server.top / "log"),
                "-w", "start")
    pristine_hba = server.hba.read_text()
    server.pristine_hba = pristine_hba
    try:
        yield server
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", BIN + "/pg_ctl", "-D",
                        str(server.data), "-m", "immediate", "stop"], check=False,
                       capture_output=True)
        shutil.rmtree(top, ignore_errors=True)
