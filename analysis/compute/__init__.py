"""Computation layer: pure functions returning unrounded numbers (no formatting, no plotting)."""
