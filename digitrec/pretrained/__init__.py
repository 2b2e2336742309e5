"""Models trained by the project and installed with the package (`settings.shipped_model_path`)."""
