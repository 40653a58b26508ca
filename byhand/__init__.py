"""Backprop by Hand helpers."""
