"""`python -m agent_tui.cli`: the same as the `agent-tui` console script."""

from agent_tui.cli.root import main

main()
