"""The `agent-tui` command line, one module per command group:

    root.py         the group, its global options (--role, --version), opening the app; what commands share
    lazy.py         the group that imports a command's module only when it runs
    demo.py         demo            the backend in-process, seeded, live traffic, and the app
    auth.py         login, logout   the API token in the OS keyring
    sync.py         sync            one headless sync
    status.py       status          connection, cursor, cache size, outbox depth
    serve.py        serve           the reference backend
    lookup.py       lookup          a missing deposit, on-chain
    macros.py       macro           macros from the cache: list, render
    check_reply.py  check-reply     the reply guard on a text
    report.py       report          KPIs for a period (the command itself is agent_tui.report)

The entry point is `agent_tui.cli:main`; `python -m agent_tui.cli` runs it too.
"""

from agent_tui.cli.root import LAZY, main

__all__ = ["LAZY", "main"]
