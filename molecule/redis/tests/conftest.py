"""Fixtures for the redis scenario: the container, the secrets, clients over TLS.

Clients connect from the machine running the tests, at 10.89.43.1 on the scenario's
network, as the tenants' users, and trust the lab certificate read from the container.
"""

import json
import os
import pathlib
import sys

import pytest
import redis
import testinfra

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "shared"))
import playbooks  # noqa: E402  (molecule/shared)

EPHEMERAL = pathlib.Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp"))
SCENARIO = pathlib.Path(__file__).resolve().parents[1]
HOST = "gw-molecule-redis"
ADDRESS = "10.89.43.10"
GIVEN_SECRET = "Given-Redis-Secret-B-7"
VERIFY_REPORTS = EPHEMERAL / "verify-reports"


@pytest.fixture(scope="session")
def cache():
    return testinfra.get_host("podman://" + HOST)


def secret(tenant, name):
    return (EPHEMERAL / "secrets" / tenant / name).read_text().strip()


@pytest.fixture(scope="session")
def ca_file(cache, tmp_path_factory):
    """The lab's self-signed server certificate, the only one the clients trust."""
    path = tmp_path_factory.mktemp("tls") / "server.crt"
    path.write_text(cache.file("/etc/redis/tls-server.crt").content_string)
    return str(path)


@pytest.fixture(scope="session")
def connect(ca_file):
    """A client over TLS; without a user it is the unauthenticated default connection."""

    def client(user=None, password=None, port=6380):
        return redis.Redis(host=ADDRESS, port=port, username=user, password=password,
                           ssl=True, ssl_ca_certs=ca_file, ssl_check_hostname=False,
                           socket_timeout=10, socket_connect_timeout=10,
                           decode_responses=True)

    return client


@pytest.fixture(scope="session")
def report():
    path = EPHEMERAL / "reports" / "latest" / (HOST + ".json")
    return json.loads(path.read_text())


def run_playbook(playbook, *args, extra_vars=None):
    """Run a playbook against the scenario; its report goes beside the converge's."""
    return playbooks.run_playbook(playbook, *args, report_dir=VERIFY_REPORTS,
                                  extra_vars=extra_vars)


@pytest.fixture(scope="session")
def verbose_converge():
    """A converge run at -vvv: everything Ansible prints about the secrets."""
    return run_playbook(SCENARIO / "converge.yml", "-vvv")
