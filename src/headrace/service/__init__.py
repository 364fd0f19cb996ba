"""The application's use cases, called by every client; where transactions start."""
