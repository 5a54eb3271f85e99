# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options every PostgreSQL module of the collection takes."""

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  login_user:
    description: Superuser to connect as.
    type: str
    default: postgres
  login_password:
    description: Password to connect with; peer authentication over the socket needs none.
    type: str
  login_host:
    description: Host name, address or unix socket directory.
    type: str
    default: /var/run/postgresql
  login_port:
    description: Port.
    type: int
    default: 5432
  login_db:
    description: Database to connect to.
    type: str
    default: postgres
  ssl_mode:
    description: libpq sslmode.
    type: str
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
    default: prefer
  ca_cert:
    description: CA certificate to verify the server with.
    type: path
  ssl_cert:
    description: Client certificate.
    type: path
  ssl_key:
    description: Client key.
    type: path
  connect_timeout:
    description: Seconds to wait for a connection.
    type: int
    default: 10
"""
