"""One screen a module: status, labeling, diff, tuning, summary, help, dialogs."""
