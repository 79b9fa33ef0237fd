"""The app's screens, one per file, and its modal dialogs (modals/). A screen gets its data from the
app (read in workers, handed over in messages) and never imports another screen."""
