"""fab2flop over HTTP: the API (``/v1/...``), the playground page and its re-solve sessions.

``fab2flop serve`` runs :func:`fab2flop.web.app.create_app` on uvicorn (docs/web.md).
"""
