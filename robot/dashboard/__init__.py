"""`robot dashboard`: a local web page over state.db, read-only towards the trading state.

- app.py: the Flask app factory (``create_app``): pages, their JSON twins, the buttons' POSTs
- views.py: what each page shows, read through the Store's named reads
- charts.py: the report's SVG charts, drawn by the server
- access.py: the token (beyond loopback), Host and CSRF rules
- actions.py: the buttons, handed to robot/resolve.py
- server.py: serving it (foreground, or on a thread beside the demo's day)
- templates/, static/: the HTML, one script and one style sheet; nothing from a CDN
"""

from __future__ import annotations

from .app import create_app
from .server import DashboardServer

__all__ = ["DashboardServer", "create_app"]
