"""The demo: a synthetic town run through the whole path, headless (`tre demo`), and its data."""
