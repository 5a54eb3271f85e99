# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A redis-server in a folder of its own, and what the tests know about it."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import pathlib
import socket
import subprocess
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ADMIN = "gw_admin"
ADMIN_PASSWORD = "Admin-Session-Secret-7"
REQUIREPASS = "Ignored-Requirepass-4"
WEAK_USER = "weak_app"
WEAK_PASSWORD = "Weak-App-Secret-2"


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def user_line(name, password, rules):
    return "user %s on #%s %s\n" % (name, sha256(password), rules)


ADMIN_LINE = user_line(ADMIN, ADMIN_PASSWORD, "~* &* +@all")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer(object):
    """One redis-server in its own folder: config file, aclfile, data, socket, log."""

    def __init__(self, top, settings, acl_lines=None, tls_folder=None):
        self.top = pathlib.Path(top)
        self.port = free_port()
        self.config = self.top / "redis.conf"
        self.aclfile = self.top / "users.acl" if acl_lines is not None else None
        self.socket = str(self.top / "redis.sock")
        self.data = self.top / "data"
        self.tls_port = free_port() if tls_folder else None
        self.tls_folder = tls_folder
        self.process = None
        self.data.mkdir()
        if self.aclfile:
            self.aclfile.write_text("".join(acl_lines))
        self.config.write_text(self.config_text(settings))

    def config_text(self, settings):
        lines = dict(bind="127.0.0.1", port=self.port, unixsocket=self.socket,
                     unixsocketperm="700", dir=self.data, logfile=self.top / "redis.log",
                     daemonize="no", save='""', appendonly="no")
        if self.aclfile:
            lines["aclfile"] = self.aclfile
        if self.tls_port:
            lines.update({"tls-port": self.tls_port, "tls-auth-clients": "yes",
                          "tls-cert-file": self.tls_folder / "server.crt",
                          "tls-key-file": self.tls_folder / "server.key",
                          "tls-ca-cert-file": self.tls_folder / "ca.crt"})
        lines.update(settings)
        return "".join("%s %s\n" % (key, value) for key, value in lines.items())

    def start(self, user=ADMIN, password=ADMIN_PASSWORD):
        self.process = subprocess.Popen(["/usr/bin/redis-server", str(self.config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while True:
            try:
                self.client(user, password).ping()
                return self
            except redis.ConnectionError:
                if self.process.poll() is not None or time.time() > deadline:
                    raise AssertionError("redis-server did not start:\n"
                                         + self.log()) from None
                time.sleep(0.05)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self, **login):
        self.stop()
        return self.start(**login)

    def log(self):
        path = self.top / "redis.log"
        return path.read_text() if path.exists() else ""

    def client(self, user=ADMIN, password=ADMIN_PASSWORD, **options):
        """A client over loopback TCP as ``user``, which fails at once if refused."""
        return redis.Redis(host="127.0.0.1", port=self.port, username=user,
                           password=password, decode_responses=True, socket_timeout=10,
                           retry=Retry(NoBackoff(), 0), **options)

    def unauthenticated_ping(self):
        """What a client that sends no credentials at all gets for PING: +PONG or an error."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(256).decode().strip()

    def admin(self):
        return self.client()

    def login(self, **extra):
        """Module connection options for the admin over loopback TCP."""
        options = dict(login_host="127.0.0.1", login_port=self.port, login_user=ADMIN,
                       login_password=ADMIN_PASSWORD)
        options.update(extra)
        return options

    def acl_list(self):
        return sorted(self.admin().execute_command("ACL LIST"))

    def getuser(self, name):
        return self.admin().acl_getuser(name)


def write_certificates(folder):
    """A CA, a server certificate for localhost and 127.0.0.1, and a client certificate."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gw test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
          .sign(ca_key, hashes.SHA256()))
    write_pem(folder, "ca", ca, None)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    for name, alternatives in (("server", names), ("client", None)):
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                   .issuer_name(ca_name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=30)))
        if alternatives:
            builder = builder.add_extension(x509.SubjectAlternativeName(alternatives), False)
        write_pem(folder, name, builder.sign(ca_key, hashes.SHA256()), key)


def write_pem(folder, name, certificate, key):
    (folder / (name + ".crt")).write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        (folder / (name + ".key")).write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        os.chmod(folder / (name + ".key"), 0o600)


