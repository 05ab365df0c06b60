"""What the SQLite and PostgreSQL backends share above their SQL dialects.

Why a folder beside ``sqlite/`` and ``postgres/``: both backends keep the same tables and must give the
same answers, so the Python half of a port method (argument handling, result shaping, and reads whose
SQL is the same in both dialects) is written once here as a mixin; each backend supplies its driver
calls (``_fetch``) and the statements it spells differently as ``_``-hooks. Nothing here imports a driver.
"""
