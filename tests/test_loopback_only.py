"""The suite may talk to loopback only: pytest-socket's guard is configured in pyproject
(`--allow-hosts=127.0.0.0/8,...`). This proves the guard is active, without sending any
packet off the machine: the blocked address is never reached because connect() is refused
before the system call, which the first assertion establishes."""

from __future__ import annotations

import socket

import pytest
import pytest_socket


def test_guard_is_installed() -> None:
    assert socket.socket.connect is not pytest_socket._true_connect


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_non_loopback_connect_is_refused() -> None:
    assert socket.socket.connect is not pytest_socket._true_connect  # else nothing is sent
    with socket.socket() as sock, pytest.raises(pytest_socket.SocketConnectBlockedError):
        sock.connect(("192.0.2.1", 9))  # TEST-NET-1 documentation address


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.socket() as client:
            client.connect(server.getsockname())
