"""The run as its own process: it outlives the terminal that started it.

The run process owns the spec's lock, runs the loop, writes the transcripts as ever, and
serves its events and control calls on a Unix socket in the state dir.  The app, ``attach``
and ``serve`` are its clients: ``client.RemoteRun`` is the handle they use instead of a
``CoderLoop``.  Nothing here knows Textual.
"""
