"""Entry points: the ``mmagent`` command line (and, later, batch jobs and the desktop app)."""
