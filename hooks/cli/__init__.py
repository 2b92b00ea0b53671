"""The ``notes`` command: scaffold and check notes, run demos. Same core as the build."""
