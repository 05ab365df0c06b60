"""`monitor web`: the analysts' dashboard over the same database and the same report functions as the CLI.

Modules: ``app`` (routes, login, headers), ``auth`` (hashes, sessions, CSRF, throttling), ``common``
(the user, templates, downloads), ``query`` (URL <-> ReportSpec), ``svg`` (charts), ``views/``
(one module per area). Pages need no script; docs/web.md explains the choices.
"""
