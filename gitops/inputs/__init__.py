"""Inputs: inventory/ and environments/ read, checked and turned into the typed model (plus the platform conventions it relies on)."""
