"""Papers: the record, its store, the sources that list them and the daily ingest."""
