# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS endpoints on loopback for the tls_probe tests, and the certificates they present.

Two kinds of server: `openssl s_server -www` for an old-fashioned endpoint (TLS 1.0 and
weak suites need OpenSSL's own switches), and Python's ssl with http.server in a thread
where the test decides the HTTP answer (the HSTS header) and counts the requests.
"""

from __future__ import annotations

import datetime
import http.server
import os
import pathlib
import socket
import ssl
import subprocess
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

TWO_YEARS_HSTS = "max-age=63072000; includeSubDomains"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Certificates


class Authority(object):
    """A test CA (ECDSA P-256) that writes certificates it signs into a folder."""

    def __init__(self, folder, name):
        self.folder = pathlib.Path(folder)
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        certificate = (
            x509.CertificateBuilder().subject_name(self.name).issuer_name(self.name)
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(self.key, hashes.SHA256()))
        self.cert_file = self.write(name.replace(" ", "_"), certificate, None)[0]

    def issue(self, file_name, dns_name, valid_from_days, valid_until_days, key=None):
        """(certificate file, key file) for dns_name, valid between the two day offsets."""
        key = key or ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_name)]))
            .issuer_name(self.name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=valid_from_days))
            .not_valid_after(now + datetime.timedelta(days=valid_until_days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), False)
            .sign(self.key, hashes.SHA256()))
        return self.write(file_name, certificate, key)

    def write(self, file_name, certificate, key):
        cert_file = self.folder / (file_name + ".crt")
        cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        if key is None:
            return str(cert_file), None
        key_file = self.folder / (file_name + ".key")
        key_file.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        os.chmod(key_file, 0o600)
        return str(cert_file), str(key_file)


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# Servers


class OpenSSLServer(object):
    """`openssl s_server -www` with the given options; its output goes to a log file."""

    def __init__(self, folder, cert_file, key_file, options):
        self.port = free_port()
        self.log = pathlib.Path(folder) / ("s_server-%d.log" % self.port)
        self.command = ["openssl", "s_server", "-www", "-accept", "127.0.0.1:%d" % self.port,
                        "-cert", cert_file, "-key", key_file] + list(options)
        self.process = None

    def start(self):
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        # s_server prints ACCEPT once it listens; a test connection would only add noise.
        while "ACCEPT" not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("openssl s_server did not start:\n"
                                     + self.log.read_text())
            time.sleep(0.02)
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class HSTSHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append((self.path, self.headers.get("Host")))
        self.send_response(200)
        if self.server.hsts is not None:
            self.send_header("Strict-Transport-Security", self.server.hsts)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, *_args):
        pass


class PythonHTTPSServer(http.server.ThreadingHTTPServer):
    """A modern endpoint: TLS 1.2 and 1.3 only, ECDHE with AEAD only, a chosen HSTS header."""

    daemon_threads = True

    def __init__(self, cert_file, key_file, hsts):
        super().__init__(("127.0.0.1", 0), HSTSHandler)
        self.port = self.server_address[1]
        self.hsts = hsts
        self.requests = []
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
        self.context.load_cert_chain(cert_file, key_file)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def get_request(self):
        raw, address = self.socket.accept()
        raw.settimeout(10)
        # A refused handshake raises an OSError here, which socketserver ignores.
        return self.context.wrap_socket(raw, server_side=True), address

    def handle_error(self, request, client_address):
        """Probes close connections abruptly; that is expected here, not an error."""

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()


class SilentServer(object):
    """A port that completes the TCP handshake (the kernel does it) but never says a word."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.port = self.socket.getsockname()[1]

    def stop(self):
        self.socket.close()
