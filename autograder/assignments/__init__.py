"""Assignment sources: ``<id>.md`` (the notebook) and ``<id>.py`` (its hidden test cases)."""
