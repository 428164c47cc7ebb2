"""The applicants' events feed: what the online system polls and shows to applicants."""
