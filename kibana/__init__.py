"""What belongs to Kibana: the saved objects, their importer, and their queries as query DSL."""
