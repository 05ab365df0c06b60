"""Several collectors on one PostgreSQL store (team mode), and the single-collector rule of SQLite.

* `leases.LeaseKeeper`: a collector's leases on watched channels, renewed while it works;
* `runlock`: one `monitor run` per SQLite file, one process per Telegram session file;
* `team.Team`: the daemon's hooks (which channels to poll, the guard around each poll).
"""
