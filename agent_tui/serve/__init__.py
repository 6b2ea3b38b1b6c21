"""``agent-tui serve``: the runs list, then the run chosen, in a browser (textual-serve),
behind a token that every request must carry."""
