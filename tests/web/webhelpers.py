"""Helpers of the web tests (a module of its own: `conftest` is a name every test folder uses)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

import httpx
from starlette.testclient import TestClient
from webdata import PASSWORDS

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-secret-" + "x" * 40


@dataclass(frozen=True)
class Served:
    url: str
    db: Path


def login(c: TestClient | httpx.Client, name: str, password: str | None = None) -> httpx.Response:
    form = c.get("/login")
    token = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    return c.post("/login", data={"name": name, "password": password or PASSWORDS[name], "csrf": token,
                                  "next": "/volume"})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
