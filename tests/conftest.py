# tests.browser: one Playwright for the whole session (two sync instances at once refuse to run).
pytest_plugins = ["pytester", "tests.browser"]
