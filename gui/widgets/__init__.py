"""Small widgets shared by the training tab and the lab tabs (so the tabs never import each other)."""
