"""Reusable widgets: the screen tab bar, bar charts, the live trial table, the GPU panel, the
search and filter bar and the stop line of the labeling screen."""
