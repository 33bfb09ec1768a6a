"""The simulated brokers (Stockbit, IPOT, Ajaib and the Lotus variant) and the task server.

Product, not a mock: the demo and every end-to-end test drive it through real Chromium.
Public entry points: ``serve`` (blocking, behind ``robot sim``), ``SimServer`` (in-process,
start/stop), and ``simulator.testing.running_simulator`` for tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import SimServer


def serve(
    port: int = 0,
    scenario: str | None = None,
    clock: Any = None,
    token: str = "sim-token",
    ui_latency: float | None = None,
    **kwargs: Any,
) -> None:
    """Run the simulator until Ctrl+C; see simulator.server.serve."""
    from .server import serve as _serve  # Flask is imported only when the simulator runs

    _serve(port, scenario, clock, token, ui_latency, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "SimServer":
        from .server import SimServer

        return SimServer
    raise AttributeError(name)


__all__ = ["serve", "SimServer"]
