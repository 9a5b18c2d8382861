"""shoploop's built-in plugins. Each registers through the ``shoploop`` entry-point group,
exactly like a third-party plugin; the core never imports them by name."""
