"""Data access per aggregate. Repositories build queries and stage writes;
they never commit: the service's unit of work does."""
