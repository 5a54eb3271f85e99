"""The lab refuses a podman set-up that cannot boot systemd containers, quickly and readably.

Runs the real lab script with podman; only the podman settings are wrong on purpose.
"""

import os
import pathlib
import shutil
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.skipif(shutil.which("podman") is None, reason="podman not installed")


def run_lab(conf_text, tmp_path):
    conf = tmp_path / "containers.conf"
    conf.write_text(conf_text)
    env = dict(os.environ, CONTAINERS_CONF=str(conf))
    started = time.monotonic()
    result = subprocess.run([str(ROOT / "lab" / "lab.sh"), "network", "gw-preflight-check",
                             "10.89.99.0/24"], capture_output=True, text=True, env=env,
                            timeout=60, check=False)
    return result, time.monotonic() - started


def test_wrong_runtime_is_refused_before_anything_starts(tmp_path):
    result, seconds = run_lab('[engine]\nruntime = "crun"\n', tmp_path)
    assert result.returncode == 1
    assert "the lab needs the runc runtime" in result.stderr
    assert str(ROOT / "lab" / "containers.conf") in result.stderr
    assert seconds < 20
    exists = subprocess.run(["podman", "network", "exists", "gw-preflight-check"], check=False)
    assert exists.returncode != 0


def test_the_project_settings_pass_the_check(tmp_path):
    conf_text = (ROOT / "lab" / "containers.conf").read_text()
    result, _ = run_lab(conf_text, tmp_path)
    try:
        assert result.returncode == 0, result.stderr
    finally:
        subprocess.run(["podman", "network", "rm", "-f", "gw-preflight-check"],
                       capture_output=True, check=False)
