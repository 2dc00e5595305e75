"""Presentation layer: formats computed results (tables, figures, text); computes no statistics."""
