"""Ports for servers started a moment later come from below the kernel's ephemeral range (where outgoing
connections take theirs), are bindable, and are never handed out twice."""

from __future__ import annotations

import socket
from pathlib import Path

from deploy.local.kafka import free_port


def test_ports_are_below_the_ephemeral_range_distinct_and_bindable():
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50 and all(1024 <= p < low for p in ports)
    with socket.socket() as s:
        s.bind(("127.0.0.1", ports[-1]))
