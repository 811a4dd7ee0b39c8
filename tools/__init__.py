"""Tools run from a clone of the repository; they are not part of the installed reviewtui package."""
