"""Reusable widgets: the screen tab bar, bar charts, the live trial table, the GPU panel."""
