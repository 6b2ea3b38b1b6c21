"""git for a run: a worktree per spec, a commit per subtask, rollback, diff, merge, discard.

Below the engine: it knows nothing of the loop, its events or the app (the engine's
``checkpoints`` turns what happens here into events); it may use the plan and the redaction.
"""
