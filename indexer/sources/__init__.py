"""Roster readers: each yields (line number, raw row dict) lazily."""
