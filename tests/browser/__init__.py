"""Browser tests: the chat panel in real JupyterLab and Chromium."""
