"""Paper sources: each turns a remote listing into validated `Paper` records."""
