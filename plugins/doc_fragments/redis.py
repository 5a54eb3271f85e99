# -*- coding: utf-8 -*-
# Copyright: groundwork.erp_baseline contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options every Redis module of the collection takes."""

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  login_host:
    description: Host name or address of the server.
    type: str
    default: 127.0.0.1
  login_port:
    description: TCP port, the TLS port when O(tls) is on.
    type: int
    default: 6379
  login_unix_socket:
    description: Unix socket to connect to instead of O(login_host) and O(login_port).
    type: path
  login_user:
    description: ACL user to log in as; without it the connection is the C(default) user.
    type: str
  login_password:
    description: Password of O(login_user), or of C(default).
    type: str
  tls:
    description: Connect with TLS.
    type: bool
    default: false
  ca_cert:
    description: CA certificate to verify the server with; the system's CAs without it.
    type: path
  client_cert:
    description: Client certificate, for a server that asks for one (C(tls-auth-clients)).
    type: path
  client_key:
    description: Key of O(client_cert).
    type: path
  tls_check_hostname:
    description: Check that the server's certificate names O(login_host).
    type: bool
    default: true
  connect_timeout:
    description: Seconds to wait for the connection and for each reply.
    type: int
    default: 10
"""
