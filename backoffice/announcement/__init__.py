"""The announcement period: the published list, tips, revocation and bars, results back to the online system."""
