"""``classicnets serve``: a local web explorer of the case studies, over the real models.

``create_app`` builds the ASGI app (``app.py``); ``run_server`` serves it with uvicorn. The page
is plain HTML, JavaScript and SVG shipped in ``static/``: nothing is loaded from the network.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import sys
import threading
import warnings
from pathlib import Path

import torch
import uvicorn

from ..errors import UserError
from ..train.device import keep_freed_memory
from .app import create_app

__all__ = ["create_app", "is_local", "open_socket", "run_server"]

LOCAL_HOSTS = ("localhost",)


def is_local(host: str) -> bool:
    """Whether ``host`` is a loopback address (only this machine can reach it)."""
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def open_socket(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port``; a port in use or a bad address is one ``UserError`` line."""
    if not 0 <= port <= 65535:
        raise UserError(f"--port must be between 0 and 65535, got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise UserError(f"--host {host}: cannot resolve it ({e.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise UserError(f"port {port} on {host} is in use: stop what uses it, or pick another with --port") from None
        raise UserError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    return sock


CACHE_DIR = Path.home() / ".cache" / "classicnets" / "explorer"


def run_server(host: str = "127.0.0.1", port: int = 8000, runs: list[str | Path] | None = None,
               data_dir: str | None = None, cache_dir: str | Path | None = CACHE_DIR) -> None:  # fmt: skip
    """Serve the explorer until interrupted. Listens on localhost unless ``host`` says otherwise,
    and then warns once that anyone on the network can reach it. The "why it works" measurements
    start computing at once, in the background (read from ``cache_dir`` when an earlier start
    computed them), so that the page finds them ready."""
    app = create_app(runs, data_dir, cache_dir)
    sock = open_socket(host, port)
    if not is_local(host):
        warnings.warn(f"listening on {host}: anyone on the network who can reach this machine can use the explorer",
                      stacklevel=2)  # fmt: skip
    keep_freed_memory()
    torch.set_num_threads(1)  # the explorer's models are small; one thread answers fastest and shares the machine
    threading.Thread(target=app.state.why.warm, name="why-warm-up", daemon=True).start()
    shown = f"[{host}]" if ":" in host else host
    print(f"classicnets explorer at http://{shown}:{sock.getsockname()[1]}/  (Ctrl+C to stop)", flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        app.state.live.close()
        sock.close()
    sys.stdout.flush()
