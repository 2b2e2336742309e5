"""The Flask web app: draw a digit, Predict, Clear (see issue: the web app)."""
