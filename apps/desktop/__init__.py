"""The desktop app (``mmagent app``): a day's screen captures on a timeline, search, ask with the
cited captures, the recorder's status and controls (in the window and the tray), and the
settings the recorder starts with.

``Backend`` is everything but the widgets (no Qt; tested on its own): it asks the recorder's
memory service when one serves the store (that process holds the store lock), else opens the
store itself — and lets it go before it starts the recorder. ``MainWindow`` is the Qt side:
whatever can take long (search, ask, start / stop, a day's listing, thumbnails, the status)
runs on worker threads; the window shows results, a busy bar and errors, and never blocks.

    mmagent app [--store DIR]        (apps/cli/)
    python -m apps.desktop [--store DIR]

The parts: :mod:`.config` (the settings the app saves), :mod:`.captures` (one capture as the app
shows it), :mod:`.backend` (no Qt), :mod:`.qt` (the Qt binding, imported once),
:mod:`.widgets` (workers, pictures, the capture viewer), :mod:`.pages` (timeline, search, ask),
:mod:`.settings_page`, :mod:`.window` (the main window, the tray, ``main``).
"""
