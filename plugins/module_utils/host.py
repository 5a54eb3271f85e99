# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small facts about the managed host that several modules need."""

from __future__ import annotations

import os
import subprocess


def container_type():
    """Return the container technology the host runs in, or None on a VM or bare metal."""
    if os.path.exists("/run/.containerenv"):
        return "podman"
    if os.path.exists("/.dockerenv"):
        return "docker"
    try:
        result = subprocess.run(
            ["systemd-detect-virt", "--container"],
            capture_output=True, text=True, check=False, timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return _container_from_pid1()
    name = result.stdout.strip()
    return None if result.returncode != 0 or name in ("", "none") else name


def _container_from_pid1():
    try:
        with open("/proc/1/environ", "rb") as handle:
            for item in handle.read().split(b"\0"):
                if item.startswith(b"container="):
                    return item.split(b"=", 1)[1].decode() or "unknown"
    except OSError:
        pass
    return None
