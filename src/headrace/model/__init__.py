"""Plain types shared by every layer: statuses and their machine, job records."""
