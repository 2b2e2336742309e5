"""Models trained by the project and installed with the package (see `settings.shipped_model_path`)."""
