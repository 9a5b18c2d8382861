"""A plugin whose import fails, as a plugin with a missing dependency would."""

raise ImportError("No module named 'shoploop_fixture_missing_dependency'")
