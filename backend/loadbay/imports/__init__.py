"""Imports: upload, profile, map, stage, review, commit."""
