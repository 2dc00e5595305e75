"""Reproducible manuscript generator for the relapse-after-CD19-CAR-T cohort.

Layers, one direction only: load -> validate -> derive -> compute -> present.
"""
