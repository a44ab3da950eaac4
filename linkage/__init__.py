"""linkage: the data path from an agency's file to a project's de-identified extract."""
