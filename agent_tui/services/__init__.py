"""What the screens ask for, without Textual: each function takes the cache (and plain values) and
returns plain data, so the app can run it in a thread worker and hand the answer to a screen.

Never imports textual, widgets or themes.
"""
